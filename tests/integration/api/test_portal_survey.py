"""The satisfaction survey: once per solve, in the portal and by the mailed link;
the managers' summary through the API."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest

from helpdesk.channels.email.survey_mail import queue_survey_mail
from helpdesk.domain import Status
from helpdesk.errors import ConflictError, PermissionDeniedError
from helpdesk.policy import SYSTEM
from helpdesk.schemas import CaseUpdate, MessageIn
from helpdesk.services import cases, messages, surveys
from helpdesk.services.customers import principal_for_customer
from tests.integration.api._portal_setup import (
    case_of,
    csrf,
    delivered_text,
    mails,
    new_customer,
    sending_mailbox,
    sign_in,
)
from tests.integration.api.conftest import Api

SURVEY_LINK = re.compile(r"/support/survey/([0-9]+\.[0-9]+\.[0-9a-f]+)")
PERIOD = "start=2000-01-01T00:00:00Z&end=2100-01-01T00:00:00Z"


def _solve(api: Api, case_id: int) -> None:
    case = api.run(cases.get_case, SYSTEM, case_id)
    api.run(
        cases.update_case, SYSTEM, case_id, CaseUpdate(version=case.version, status=Status.SOLVED)
    )


def test_portal_survey_once_per_solve(api: Api) -> None:
    # Given a customer signed in, with a request being worked on: no survey yet
    customer = new_customer(api)
    case = case_of(api, customer)
    sign_in(api, customer)
    path = f"/support/requests/{case.id}"
    assert 'name="rating"' not in api.client.get(path).text

    # When it is solved, the request page offers the survey; an answer is kept
    _solve(api, case.id)
    assert 'name="rating"' in api.client.get(path).text
    answer = {"rating": "4", "comment": "Nhanh", "_csrf": csrf(api, path)}
    response = api.client.post(f"{path}/survey", data=answer, follow_redirects=False)
    assert response.status_code == 303
    page = api.client.get(path).text
    assert "4 trên 5" in page
    assert 'name="rating"' not in page

    # Then the same solve cannot be rated twice
    again = api.client.post(f"{path}/survey", data=answer, follow_redirects=False)
    assert again.status_code == 409

    # When the customer writes again (reopened) and it is solved again, a new rating is welcome
    principal = api.run(principal_for_customer, customer.id)
    api.run(messages.add_customer_message, principal, case.id, MessageIn(body="Lại lỗi"))
    assert api.run(surveys.survey_offer, principal, case.id) is None
    _solve(api, case.id)
    offer = api.run(surveys.survey_offer, principal, case.id)
    assert offer is not None
    assert not offer.answered
    api.run(surveys.answer_survey, principal, case.id, 2, "")
    with pytest.raises(ConflictError):
        api.run(surveys.answer_survey, principal, case.id, 5, "")


def test_portal_survey_by_mailed_link_without_signing_in(api: Api) -> None:
    sending_mailbox(api)
    customer = new_customer(api, locale="en")
    case = case_of(api, customer)
    _solve(api, case.id)

    # The survey mail, once per solve however often it is queued
    assert api.run(queue_survey_mail, case.id) is not None
    assert api.run(queue_survey_mail, case.id) is None
    (mail,) = mails(api, "survey")
    assert mail["to_address"] == customer.emails[0]
    assert mail["case"] == case.id  # listed with the case's mails
    assert mail["subject"] == f"How did we do? [#{case.reference}]"
    found = SURVEY_LINK.search(delivered_text(api, mail))
    assert found
    path = f"/support/survey/{found.group(1)}"

    # A forged link is not found; the real one rates the solve
    api.client.cookies.clear()
    forged = path[:-1] + ("0" if path[-1] != "0" else "1")
    assert api.client.get(forged).status_code == 404
    token = csrf(api, path)
    answered = api.client.post(path, data={"rating": "5", "_csrf": token})
    assert answered.status_code == 200
    assert "5 trên 5" in answered.text or "5 out of 5" in answered.text
    assert api.client.post(path, data={"rating": "1", "_csrf": token}).status_code == 409

    # After a reopening the old link is closed
    principal = api.run(principal_for_customer, customer.id)
    api.run(messages.add_customer_message, principal, case.id, MessageIn(body="Again"))
    assert "closed" in api.client.get(path + "?lang=en").text


def test_a_survey_link_with_non_ascii_characters_is_not_found_not_a_crash(api: Api) -> None:
    sending_mailbox(api)
    customer = new_customer(api, locale="en")
    case = case_of(api, customer)
    _solve(api, case.id)
    api.run(queue_survey_mail, case.id)
    (mail,) = mails(api, "survey")
    found = SURVEY_LINK.search(delivered_text(api, mail))
    assert found
    case_id, key, tag = found.group(1).split(".")
    arabic_digits = str(case_id).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    forged_tokens = [
        f"{case_id}.{key}.{tag[:-1]}é",  # the real link with one letter changed
        f"{case_id}.{key}.{'đ' * len(tag)}",
        f"{arabic_digits}.{key}.{tag}",  # digits Python's isdigit() accepts
    ]
    real_path = f"/support/survey/{found.group(1)}"
    api.client.cookies.clear()
    token = csrf(api, real_path)
    for forged in forged_tokens:
        path = f"/support/survey/{quote(forged)}"
        assert api.client.get(path).status_code == 404, forged
        answer = api.client.post(path, data={"rating": "5", "_csrf": token})
        assert answer.status_code == 404, forged
    # Nothing was recorded: the real link still takes the answer
    assert api.client.post(real_path, data={"rating": "5", "_csrf": token}).status_code == 200


def test_survey_summary_for_managers(api: Api) -> None:
    for rating in (5, 4, 4):
        customer = new_customer(api)
        case = case_of(api, customer)
        _solve(api, case.id)
        principal = api.run(principal_for_customer, customer.id)
        api.run(surveys.answer_survey, principal, case.id, rating, "")
    response = api.get(f"/api/v1/reports/satisfaction?{PERIOD}", role="manager")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["count"] == 3
    assert body["average"] == pytest.approx(4.33)
    assert body["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1}
    assert api.get(f"/api/v1/reports/satisfaction?{PERIOD}", role="agent_a").status_code == 403
    bad = api.get(
        "/api/v1/reports/satisfaction?start=2026-02-01T00:00:00Z&end=2026-01-01T00:00:00Z",
        role="manager",
    )
    assert bad.status_code == 422


def test_only_customers_answer_surveys(api: Api) -> None:
    customer = new_customer(api)
    case = case_of(api, customer)
    _solve(api, case.id)
    with pytest.raises(PermissionDeniedError):
        api.run(surveys.answer_survey, SYSTEM, case.id, 5, "")
