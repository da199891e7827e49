"""Finding ``@mentions`` in a note: names and e-mail local parts, without regard
to case or Vietnamese diacritics; ambiguous or embedded ``@`` mention no one.
And the texts of notifications, rendered in the reader's language."""

from __future__ import annotations

import pytest

from helpdesk.i18n import translator
from helpdesk.notifications.kinds import Kind, render_text
from helpdesk.notifications.mentions import Candidate, find_mentions, fold

MAI = Candidate(1, "Mai Nguyễn", "mai.nguyen@support.test")
DUC = Candidate(2, "Đặng Minh Đức", "duc@support.test")
MAI_TRAN = Candidate(3, "Trần Thị Mai", "tran.mai@support.test")
STAFF = [MAI, DUC]


def test_fold_drops_case_and_diacritics() -> None:
    assert fold("  Đặng   Minh ĐỨC ") == "dang minh duc"
    assert fold("Nguyễn Thị Ánh") == "nguyen thi anh"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@mai xem giúp", {1}),
        ("Nhờ @Mai Nguyễn kiểm tra", {1}),
        ("nhờ @mai nguyen nhé", {1}),
        ("@MAI.NGUYEN, xem lại", {1}),
        ("@duc và @Đức và @đặng minh đức", {2}),
        ("(@mai) cùng @duc.", {1, 2}),
        ("Gửi khach@mai.vn và email@duc", set()),  # inside a word: an address
        ("@maiko hoặc @ducanh", set()),  # a longer word is someone else
        ("Không nhắc ai cả", set()),
        ("@", set()),
        ("@ mai", set()),
    ],
)
def test_mentions(text: str, expected: set[int]) -> None:
    assert find_mentions(text, STAFF) == expected


def test_a_handle_shared_by_two_agents_mentions_neither_but_a_full_name_does() -> None:
    staff = [MAI, MAI_TRAN, DUC]
    assert find_mentions("@mai xem giúp", staff) == set()
    assert find_mentions("@Trần Thị Mai và @mai nguyen", staff) == {1, 3}
    assert find_mentions("@tran.mai", staff) == {3}


def test_texts_are_rendered_in_the_readers_language() -> None:
    params = {"subject": "Không đăng nhập được"}
    vi = render_text(Kind.ASSIGNED, params, 12, "Lan", translator("vi"))
    en = render_text(Kind.ASSIGNED, params, 12, "Lan", translator("en"))
    assert vi == "Lan đã phân công yêu cầu HD-000012 cho bạn: Không đăng nhập được"
    assert en == "Lan assigned HD-000012 to you: Không đăng nhập được"
    by_routing = render_text(Kind.ASSIGNED, params, 12, None, translator("vi"))
    assert by_routing.startswith("Yêu cầu HD-000012 đã được phân công cho bạn")
    sla = render_text(Kind.SLA_BREACHED, {"metric": "first_response", **params}, 7, None,
                      translator("vi"))  # fmt: skip
    assert sla.startswith("HD-000007: chỉ tiêu phản hồi đầu tiên đã vi phạm SLA")
    assert render_text("from_a_newer_release", {}, 7, None, translator("en")) == "HD-000007"
