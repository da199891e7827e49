"""Who is in the demo: staff with known passwords, teams, organizations, customers.

Staff and organizations are fixed; customers are generated from a seed. Email
addresses of staff and of customers without an organization use reserved
domains (``.example``, ``example.com``), so that no demo reply can reach a
real person; organization domains look real, as a demo should.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from helpdesk.domain import Availability, Role
from helpdesk.text import fold

TeamKey = Literal["support", "billing"]


@dataclass(frozen=True, kw_only=True)
class StaffMember:
    """A demo agent, manager or admin."""

    name: str
    email: str
    role: Role
    password: str
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    capacity: int
    teams: tuple[TeamKey, ...]
    availability: Availability = Availability.AVAILABLE


@dataclass(frozen=True, kw_only=True)
class TeamSpec:
    """A demo team."""

    key: TeamKey
    name: str
    description: str
    is_default: bool


@dataclass(frozen=True, kw_only=True)
class OrganizationSpec:
    """A demo customer company."""

    name: str
    domain: str
    language: Literal["vi", "en", "mixed"]
    shared_visibility: bool
    notes: str


@dataclass(frozen=True, kw_only=True)
class CustomerSpec:
    """A generated demo customer."""

    name: str
    first: str  # what an English greeting uses
    email: str
    phone: str
    locale: Literal["vi", "en"]
    organization: int | None  # index into ORGANIZATIONS


ADMIN_PASSWORD = "quantri-demo"  # noqa: S105 - published demo credentials
MANAGER_PASSWORD = "quanly-demo"  # noqa: S105
AGENT_PASSWORD = "nhanvien-demo"  # noqa: S105

TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec(
        key="support",
        name="Hỗ trợ kỹ thuật",
        description="Technical support: đăng nhập, lỗi ứng dụng, tích hợp API.",
        is_default=True,
    ),
    TeamSpec(
        key="billing",
        name="Thanh toán",
        description="Billing: hoá đơn, thanh toán, hoàn tiền, gói dịch vụ.",
        is_default=False,
    ),
)

STAFF: tuple[StaffMember, ...] = (
    StaffMember(
        name="Phạm Minh Quân",
        email="quantri@hotro.example",
        role=Role.ADMIN,
        password=ADMIN_PASSWORD,
        languages=("vi", "en"),
        skills=(),
        capacity=0,
        teams=(),
        availability=Availability.OFFLINE,
    ),
    StaffMember(
        name="Bùi Thị Hạnh",
        email="hanh.bui@hotro.example",
        role=Role.MANAGER,
        password=MANAGER_PASSWORD,
        languages=("vi", "en"),
        skills=("escalations",),
        capacity=5,
        teams=("support", "billing"),
    ),
    StaffMember(
        name="Đỗ Thu Trang",
        email="trang.do@hotro.example",
        role=Role.AGENT,
        password=AGENT_PASSWORD,
        languages=("vi",),
        skills=("login", "mobile-app"),
        capacity=20,
        teams=("support",),
    ),
    StaffMember(
        name="Lê Hoàng Nam",
        email="nam.le@hotro.example",
        role=Role.AGENT,
        password=AGENT_PASSWORD,
        languages=("vi", "en"),
        skills=("api", "integration", "webhooks"),
        capacity=12,
        teams=("support",),
    ),
    StaffMember(
        name="Võ Thanh Tâm",
        email="tam.vo@hotro.example",
        role=Role.AGENT,
        password=AGENT_PASSWORD,
        languages=("vi",),
        skills=("reports", "email"),
        capacity=15,
        teams=("support",),
        availability=Availability.AWAY,
    ),
    StaffMember(
        name="James Nguyen",
        email="james.nguyen@hotro.example",
        role=Role.AGENT,
        password=AGENT_PASSWORD,
        languages=("en", "vi"),
        skills=("sso", "api"),
        capacity=12,
        teams=("support",),
    ),
    StaffMember(
        name="Nguyễn Thị Mai",
        email="mai.nguyen@hotro.example",
        role=Role.AGENT,
        password=AGENT_PASSWORD,
        languages=("vi",),
        skills=("billing", "invoice", "vat"),
        capacity=15,
        teams=("billing",),
    ),
    StaffMember(
        name="Emily Carter",
        email="emily.carter@hotro.example",
        role=Role.AGENT,
        password=AGENT_PASSWORD,
        languages=("en",),
        skills=("billing", "refund"),
        capacity=12,
        teams=("billing",),
    ),
)

ORGANIZATIONS: tuple[OrganizationSpec, ...] = (
    OrganizationSpec(
        name="Công ty TNHH Minh Phát",
        domain="minhphat.vn",
        language="vi",
        shared_visibility=True,
        notes="Hợp đồng năm, gói Doanh nghiệp. Liên hệ chính: phòng kế toán.",
    ),
    OrganizationSpec(
        name="Saigon Coffee Roasters",
        domain="saigoncoffee.vn",
        language="mixed",
        shared_visibility=True,
        notes="Chuỗi 12 quán cà phê; dùng API cho đơn hàng trực tuyến.",
    ),
    OrganizationSpec(
        name="Công ty Cổ phần Du lịch Biển Xanh",
        domain="bienxanhtravel.vn",
        language="vi",
        shared_visibility=False,
        notes="Cao điểm mùa hè; ưu tiên xử lý sự cố đặt phòng.",
    ),
    OrganizationSpec(
        name="Mekong Logistics",
        domain="mekonglogistics.vn",
        language="mixed",
        shared_visibility=False,
        notes="Kho ở Cần Thơ và Bình Dương.",
    ),
    OrganizationSpec(
        name="Công ty TNHH Nội thất Gỗ Việt",
        domain="goviet.vn",
        language="vi",
        shared_visibility=False,
        notes="",
    ),
    OrganizationSpec(
        name="Lotus Spa & Wellness",
        domain="lotusspa.vn",
        language="mixed",
        shared_visibility=True,
        notes="Three locations in Hanoi; manager prefers English.",
    ),
    OrganizationSpec(
        name="Blue Lantern Studio",
        domain="bluelantern.io",
        language="en",
        shared_visibility=False,
        notes="Design agency, Singapore office.",
    ),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FAMILY = _words(
    "Nguyễn Nguyễn Nguyễn Trần Trần Lê Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô "
    "Dương Lý Trương Đinh Mai Cao"
)
_MIDDLE_F = _words("Thị Thị Thị Ngọc Thu Thanh Minh Phương Bảo Khánh")
_MIDDLE_M = _words("Văn Văn Đức Minh Quốc Thanh Hoàng Gia Hữu Công")
_GIVEN_F = _words(
    "Lan Hoa Mai Hương Linh Trang Thảo Ngọc Vy Anh Yến Phương Hạnh Nhung Quyên Hà Trâm Nga Thư Uyên"
)
_GIVEN_M = _words(
    "Hùng Dũng Nam Tuấn Minh Khoa Phúc Long Quang Sơn Bảo Huy Tài Thắng Trung Đạt Hiếu Khang "
    "Vinh Lộc"
)
_EN_FIRST = _words(
    "Sarah Michael Emma David Olivia Daniel Sophie James Hannah Thomas Chloe Ryan Grace Lucas "
    "Mia Ethan Laura Peter"
)
_EN_LAST = _words(
    "Smith Johnson Williams Brown Taylor Wilson Clark Walker Hall Young King Wright Green Baker "
    "Turner Lee"
)
_PERSONAL_DOMAINS = ("example.com", "example.net", "example.org")


def _vietnamese_name(rng: random.Random) -> tuple[str, str, str]:
    """(full name, given name, family name)."""
    family = rng.choice(_FAMILY)
    if rng.random() < 0.5:
        middle, given = rng.choice(_MIDDLE_F), rng.choice(_GIVEN_F)
    else:
        middle, given = rng.choice(_MIDDLE_M), rng.choice(_GIVEN_M)
    return f"{family} {middle} {given}", given, family


def _english_name(rng: random.Random) -> tuple[str, str, str]:
    first, last = rng.choice(_EN_FIRST), rng.choice(_EN_LAST)
    return f"{first} {last}", first, last


def _phone(rng: random.Random, locale: str) -> str:
    if locale == "vi":
        prefix = rng.choice(("090", "091", "093", "097", "098", "086", "035", "070"))
        return f"{prefix} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    return f"+65 {rng.randint(6000, 9999)} {rng.randint(1000, 9999)}" if rng.random() < 0.5 else ""


def generate_customers(count: int, rng: random.Random) -> list[CustomerSpec]:
    """``count`` customers with unique addresses: about two thirds in an organization."""
    customers: list[CustomerSpec] = []
    used: set[str] = set()
    for _ in range(count):
        org_index: int | None = None
        if rng.random() < 0.65:
            org_index = rng.randrange(len(ORGANIZATIONS))
            org_language = ORGANIZATIONS[org_index].language
            english = org_language == "en" or (org_language == "mixed" and rng.random() < 0.4)
        else:
            english = rng.random() < 0.25
        name, given, family = _english_name(rng) if english else _vietnamese_name(rng)
        if org_index is not None:
            domain = ORGANIZATIONS[org_index].domain
            local = f"{fold(given)}.{fold(family)}".replace(" ", "")
        else:
            domain = rng.choice(_PERSONAL_DOMAINS)
            local = f"{fold(given)}{fold(family)}{rng.randint(70, 99)}".replace(" ", "")
        email = f"{local}@{domain}"
        n = 2
        while email in used:
            email = f"{local}{n}@{domain}"
            n += 1
        used.add(email)
        locale: Literal["vi", "en"] = "en" if english else "vi"
        customers.append(
            CustomerSpec(
                name=name,
                first=given,
                email=email,
                phone=_phone(rng, locale),
                locale=locale,
                organization=org_index,
            )
        )
    return customers
