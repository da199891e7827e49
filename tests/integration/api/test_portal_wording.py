"""The customer's words (issue 15, item 5): customer status names, "Quý khách",
languages by name. Both engines."""

from __future__ import annotations

import re

from helpdesk.domain import Status
from helpdesk.policy import SYSTEM
from helpdesk.schemas import CaseUpdate
from helpdesk.services import cases
from knowledge_base import services as kb
from knowledge_base.schemas import ArticleIn, ArticleStatus
from tests.integration.api._portal_setup import case_of, new_customer, sign_in
from tests.integration.api.conftest import Api

AGENT_PENDING = "Chờ khách hàng phản hồi"
INFORMAL = re.compile(r"\bbạn\b", re.IGNORECASE)


def _set_status(api: Api, case_id: int, status: Status) -> None:
    case = api.run(cases.get_case, SYSTEM, case_id)
    api.run(cases.update_case, SYSTEM, case_id, CaseUpdate(version=case.version, status=status))


def test_the_portal_speaks_the_customers_words(api: Api) -> None:
    # Given a signed-in customer whose request waits for their reply
    customer = new_customer(api)
    case = case_of(api, customer)
    _set_status(api, case.id, Status.PENDING)
    sign_in(api, customer)
    page = f"/support/requests/{case.id}"

    # Then the request and the list say it waits for the customer, never the agents' wording
    for path in (page, "/support/requests"):
        text = api.client.get(path, params={"lang": "vi"}).text
        assert "Chờ Quý khách phản hồi" in text
        assert AGENT_PENDING not in text
        assert not INFORMAL.search(text)
    assert "Waiting for your reply" in api.client.get(page, params={"lang": "en"}).text

    # And a request on hold (an agents' distinction) reads "in progress"
    _set_status(api, case.id, Status.ON_HOLD)
    on_hold = api.client.get(page, params={"lang": "vi"}).text
    assert 'id="request-status">Đang xử lý<' in on_hold
    assert "Tạm hoãn" not in on_hold
    assert ">In progress<" in api.client.get(page, params={"lang": "en"}).text

    # The web form addresses the customer as "Quý khách"
    form = api.client.get("/support/request", params={"lang": "vi"}).text
    assert "Quý khách" in form
    assert not INFORMAL.search(form)


def test_languages_are_named_not_coded(api: Api) -> None:
    done = ArticleStatus.PUBLISHED
    vi = ArticleIn(title="Đổi mật khẩu", body="Bấm.", status=done)
    vietnamese = api.run(kb.create_article, SYSTEM, vi)
    en = ArticleIn(
        title="Change your password", body="Click.", status=done, locale="en",
        translation_of=vietnamese.id,
    )  # fmt: skip
    api.run(kb.create_article, SYSTEM, en)
    other = {"vi": "English:</span> Change your password", "en": "Tiếng Việt:</span> Đổi mật khẩu"}

    for lang, translation in other.items():
        text = api.client.get(f"/support/kb/articles/{vietnamese.id}", params={"lang": lang}).text
        assert f'<span class="kb-language">{translation}' in text  # the other language, by name
        assert 'lang="vi">Tiếng Việt</a>' in text  # the language switcher, in both interfaces
        assert 'lang="en">English</a>' in text
        assert ">vi<" not in text
        assert ">en<" not in text
