"""The demo's live chats, made through the chat channel as a visitor and agents make them.

One chat waits in the technical support queue, one is going on with a
billing agent, and a few are finished (solved or closed). Each is started
with :func:`helpdesk.channels.chat.start_chat` (an unverified contact, as
every chat), routed, answered with the case services, then dated back. A
chat is found by the address its visitor typed, so a second run creates
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from helpdesk.channels import chat
from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.demo._people import STAFF, TeamKey
from helpdesk.domain import Status
from helpdesk.policy import Principal
from helpdesk.routing.assign import route_case
from helpdesk.schemas import AssignIn, CaseUpdate, MessageIn
from helpdesk.services import cases, messages
from helpdesk.sla.replay import replay_case
from helpdesk.tables import AuditEntry, Case, ChatContact, Customer, Message

ChatState = Literal["waiting", "ongoing", "solved", "closed"]
Line = tuple[Literal["customer", "agent"], float, str]  # who, minutes after the start, text


@dataclass(frozen=True, kw_only=True)
class ChatSpec:
    """A demo chat: who typed what, when, and how far it got."""

    name: str
    email: str  # reserved domains only: a chat contact may be mailed a link
    locale: Literal["vi", "en"]
    team: TeamKey
    agent: str | None  # the staff member's email
    state: ChatState
    started: timedelta  # before now
    lines: tuple[Line, ...]  # the first is the visitor's opening line


CHATS: tuple[ChatSpec, ...] = (
    ChatSpec(
        name="Nguyễn Thu Hà", email="thuha.nguyen88@example.com", locale="vi", team="support",
        agent=None, state="waiting", started=timedelta(minutes=4),
        lines=(
            ("customer", 0, "Chào bạn, mình đăng nhập ứng dụng trên điện thoại thì cứ bị báo "
             '"Phiên đăng nhập đã hết hạn", đăng nhập lại được vài phút lại bị đẩy ra.'),
            ("customer", 1.5, "Mình dùng Android, ứng dụng bản 3.8.2. Trên máy tính thì vẫn "
             "bình thường."),
        ),
    ),
    ChatSpec(
        name="Trần Minh Khoa", email="minhkhoa.tran91@example.net", locale="vi", team="billing",
        agent="mai.nguyen@hotro.example", state="ongoing", started=timedelta(minutes=14),
        lines=(
            ("customer", 0, "Chào chị, công ty em cần xuất hoá đơn VAT cho đơn hàng DH482913 "
             "thanh toán hôm qua ạ."),
            ("agent", 2, "Dạ chào Quý khách, em là Mai ở bộ phận thanh toán. Quý khách vui lòng "
             "cho em xin tên đơn vị, mã số thuế và địa chỉ để xuất hoá đơn ạ."),
            ("customer", 6, "Dạ: Công ty TNHH Nội thất Gỗ Việt, MST 0315678912, địa chỉ 142 Lê "
             "Văn Sỹ, Phường 11, Quận Phú Nhuận, TP. Hồ Chí Minh."),
            ("agent", 9, "Em đã nhận đủ thông tin. Hoá đơn điện tử sẽ được gửi về email của Quý "
             "khách trong vòng 2 ngày làm việc. Quý khách có muốn em cập nhật thông tin này vào "
             "hồ sơ thanh toán để các hoá đơn sau tự đúng luôn không ạ?"),
            ("customer", 12, "Có chị ơi, chị cập nhật giúp em luôn nhé."),
        ),
    ),
    ChatSpec(
        name="Lê Ngọc Trâm", email="ngoctram.le76@example.org", locale="vi", team="support",
        agent="trang.do@hotro.example", state="solved", started=timedelta(days=2, hours=3),
        lines=(
            ("customer", 0, 'Chào bạn, mình quên mật khẩu, bấm "Quên mật khẩu?" mà chờ mãi '
             "không thấy email."),
            ("agent", 1.5, "Chào Quý khách, em là Trang. Quý khách kiểm tra giúp em thư mục Thư "
             "rác hoặc Quảng cáo nhé. Email đặt lại mật khẩu thường tới trong 1 đến 2 phút ạ."),
            ("customer", 4, "À có rồi, nằm trong mục Quảng cáo. Mình đổi mật khẩu xong rồi."),
            ("agent", 5, 'Dạ vâng ạ. Quý khách có thể xem thêm bài "Cách đặt lại mật khẩu" trong '
             "trung tâm hỗ trợ để tiện tra cứu. Chúc Quý khách một ngày tốt lành!"),
            ("customer", 6, "Cảm ơn bạn nhiều nhé!"),
        ),
    ),
    ChatSpec(
        name="Hannah Clark", email="hannah.clark@example.com", locale="en", team="support",
        agent="james.nguyen@hotro.example", state="closed", started=timedelta(days=6, hours=5),
        lines=(
            ("customer", 0, "Hi, how do I give our accountant access to reports without letting "
             "her edit orders?"),
            ("agent", 2, "Hi Hannah, I'm James. Go to Settings > Users > Add user, enter her "
             'email and choose the "View only" role. She\'ll get an activation email within a '
             "few minutes."),
            ("customer", 5, "Perfect, she's in. Thanks!"),
            ("agent", 6, "You're welcome! Anything else I can help with today?"),
            ("customer", 7, "No, that's all. Have a good day."),
        ),
    ),
    ChatSpec(
        name="Phạm Quốc Huy", email="quochuy.pham83@example.com", locale="vi", team="billing",
        agent="mai.nguyen@hotro.example", state="solved", started=timedelta(days=1, hours=2),
        lines=(
            ("customer", 0, "Chào chị, em được báo đã hoàn tiền khoản bị trừ hai lần từ thứ Hai "
             "mà đến giờ chưa thấy tiền về tài khoản."),
            ("agent", 3, "Dạ chào Quý khách, em kiểm tra thấy lệnh hoàn 1.250.000 đ đã gửi sang "
             "ngân hàng hôm thứ Hai. Với thẻ Visa, tiền thường về sau 5 đến 10 ngày làm việc, "
             "tuỳ ngân hàng ạ."),
            ("customer", 6, "Vậy em chờ thêm vài ngày. Nếu đến thứ Sáu tuần sau chưa có thì em "
             "báo lại nhé."),
            ("agent", 8, "Dạ vâng, khi đó Quý khách cứ nhắn lại, em sẽ gửi mã giao dịch để Quý "
             "khách đối chiếu với ngân hàng ạ."),
        ),
    ),
)  # fmt: skip


class _ChatPlayer:
    """Plays one chat and dates each of its rows back to when it happened."""

    def __init__(self, spec: ChatSpec, agent: Principal | None, now: datetime) -> None:
        self.spec = spec
        self.agent = agent
        self.start = now - spec.started
        self.case_id = 0
        self.audit_mark = 0
        self.stamps: dict[str, datetime] = {}

    def at(self, minutes: float) -> datetime:
        """The time ``minutes`` after the chat started."""
        return self.start + timedelta(minutes=minutes)

    async def _date_audit(self, at: datetime) -> None:
        """Date the case's audit entries written since the last call."""
        rows = await AuditEntry.select(AuditEntry.id).where(
            (AuditEntry.case == self.case_id) & (AuditEntry.id > self.audit_mark)
        )
        ids = [int(r["id"]) for r in rows]
        if ids:
            await AuditEntry.update({AuditEntry.created_at: at}).where(AuditEntry.id.is_in(ids))
            self.audit_mark = max(ids)

    async def _date_message(self, message_id: int, at: datetime) -> None:
        await Message.update({Message.created_at: at}).where(Message.id == message_id)

    async def play(self, secret_key: str, team_id: int, client_ip: str) -> None:
        """Start, route, answer and end the chat as its spec says."""
        spec = self.spec
        start = chat.ChatStart(name=spec.name, email=spec.email, message=spec.lines[0][2],
                               team_id=team_id, locale=spec.locale)  # fmt: skip
        session = await chat.start_chat(secret_key, start, client_ip=client_ip)
        self.case_id = session.case_id
        await self._date_message(session.lines[0].id, self.start)
        await self._date_audit(self.start)
        await route_case(self.case_id)
        self.stamps["routed"] = self.at(0.1)
        await self._date_audit(self.stamps["routed"])
        for who, minutes, text in spec.lines[1:]:
            at = self.at(minutes)
            if who == "customer":
                line = await chat.say(session, text)
                await self._date_message(line.id, at)
            else:
                await self._answer(text, at)
            await self._date_audit(at)
            self.stamps["last"] = at
        if spec.state in ("solved", "closed"):
            await self._end(Status.SOLVED, self.stamps["last"] + timedelta(minutes=1))
        if spec.state == "closed":
            await self._end(Status.CLOSED, self.stamps["last"] + timedelta(days=3))

    async def _answer(self, text: str, at: datetime) -> None:
        assert self.agent is not None, "a chat with agent lines needs an agent"
        if "assigned" not in self.stamps:
            take = AssignIn(assignee_id=self.agent.id, only_if_unassigned=True)
            await cases.assign_case(self.agent, self.case_id, take)
            self.stamps["assigned"] = at - timedelta(seconds=30)
            await self._date_audit(self.stamps["assigned"])
        out = await messages.reply(self.agent, self.case_id, MessageIn(body=text))
        await self._date_message(out.id, at)
        self.stamps.setdefault("first_response", at)

    async def _end(self, status: Status, at: datetime) -> None:
        assert self.agent is not None
        version = (await cases.get_case(self.agent, self.case_id)).version
        await cases.update_case(
            self.agent, self.case_id, CaseUpdate(version=version, status=status)
        )
        await self._date_audit(at)
        self.stamps[str(status)] = self.stamps["last"] = at

    async def backdate(self) -> None:
        """Date the case, its contact and the contact's customer record back."""
        stamps = self.stamps
        values: dict[Any, Any] = {
            Case.created_at: self.start,
            Case.updated_at: stamps.get("last", self.start),
            Case.routed_at: stamps["routed"],
            Case.first_response_at: stamps.get("first_response"),
        }
        if Status.SOLVED in stamps:
            values[Case.solved_at] = stamps[Status.SOLVED]
        if Status.CLOSED in stamps:
            values[Case.closed_at] = stamps[Status.CLOSED]
        await Case.update(values).where(Case.id == self.case_id)
        contact = await ChatContact.select(ChatContact.customer).where(
            ChatContact.case == self.case_id
        ).first()  # fmt: skip
        if contact is not None:
            await ChatContact.update({ChatContact.created_at: self.start}).where(
                ChatContact.case == self.case_id
            )
            await Customer.update({Customer.created_at: self.start}).where(
                Customer.id == contact["customer"]
            )


async def ensure_chats(secret_key: str, teams: dict[str, int], principals: list[Principal]) -> int:
    """Create the demo chats that do not exist yet (by the visitor's address);
    how many were created. ``principals`` are the demo staff's, in STAFF order."""
    by_email = {member.email: principals[i] for i, member in enumerate(STAFF)}
    created = 0
    for number, spec in enumerate(CHATS, start=1):
        if await ChatContact.exists().where(ChatContact.address == spec.email):
            continue
        agent = by_email[spec.agent] if spec.agent else None
        player = _ChatPlayer(spec, agent, utcnow())
        async with transaction():  # all or nothing: a half-made chat would be skipped later
            await player.play(secret_key, teams[spec.team], f"203.0.113.{number}")
            await player.backdate()
        async with transaction():  # the SLA clocks, from the dated-back history
            await replay_case(player.case_id)
        created += 1
    return created
