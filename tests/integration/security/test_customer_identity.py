"""Customer identity: no agent can take over a customer's portal (SQLite and PostgreSQL).

* An address signs in to the portal only once the customer proved it (a mail
  filed from it, or a sign-in link used); an address an agent adds grants
  nothing until then, and the customer is told at their verified addresses.
* Who sees an organization's cases (``shared_visibility``, its domains, its
  members) is an admin's decision, audited.
* Merging data of two customers (cases or customers) needs a confirmation
  naming both, and an admin across organizations; the target customer never
  sees the source customer's messages nor their files.
"""

from __future__ import annotations

import itertools
from typing import Any

from helpdesk.channels.email.filing import MailboxRef
from helpdesk.channels.email.ingest import ingest_mail
from helpdesk.db import transaction
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AttachmentIn, CaseCreate, OrganizationIn
from helpdesk.services import cases, customers, messages, organizations
from helpdesk.services.customers import principal_for_customer
from helpdesk.tables import AuditEntry, Customer
from tests.integration.api._portal_setup import (
    LINK,
    csrf,
    delivered_text,
    mails,
    request_link,
    sending_mailbox,
    sign_in,
)
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in
from tests.integration.email._mail import build_mail

_seq = itertools.count(1)


async def _customer_from_mail(address: str, name: str, organization_id: int | None) -> int:
    """A customer as the email channel makes one: the address verified."""
    async with transaction():
        customer_id = await customers.find_or_create_by_email(address, name, verified=True)
    if organization_id is not None:
        await _set_organization(customer_id, organization_id)
    return customer_id


async def _customer_from_web_form(address: str, name: str) -> int:
    """A customer as the web form makes one: the address typed, not proven."""
    async with transaction():
        return await customers.find_or_create_by_email(address, name)


async def _set_organization(customer_id: int, organization_id: int) -> None:
    await Customer.update({Customer.organization: organization_id}).where(
        Customer.id == customer_id
    )


def _person(api: Api, *, organization: int | None = None, name: str = "") -> Any:
    n = next(_seq)
    address = f"nguoi{n}@khach{n}.vn"
    customer_id = api.run(_customer_from_mail, address, name or f"Khách {n}", organization)
    return api.run(customers.get_customer, SYSTEM, customer_id)


def _organization(api: Api, *, shared: bool) -> int:
    data = OrganizationIn(name=f"Công ty {next(_seq)}", shared_visibility=shared)
    return api.run(organizations.create_organization, SYSTEM, data).id


def _case(api: Api, customer: Any, team: int, body: str, file: bytes | None = None) -> Any:
    attachments = [AttachmentIn(filename="hop-dong.pdf", content=file)] if file else []
    data = CaseCreate(
        subject="Hợp đồng", body=body, customer_id=customer.id, team_id=team,
        attachments=attachments,
    )  # fmt: skip
    return api.run(cases.open_case, SYSTEM, data)


async def _audit_actions(entity: str, entity_id: int) -> list[str]:
    rows = await AuditEntry.select(AuditEntry.action).where(
        (AuditEntry.entity == entity) & (AuditEntry.entity_id == entity_id)
    )
    return [r["action"] for r in rows]


def _to(api: Api, kind: str) -> list[str]:
    return [m["to_address"] for m in mails(api, kind)]


# --- (a) addresses added by staff grant nothing until verified -------------------


def test_an_address_an_agent_adds_signs_nobody_in_and_the_customer_is_told(api: Api) -> None:
    # Given a customer who wrote to us (verified address) with a case of team B
    sending_mailbox(api)
    victim = _person(api)
    secret = _case(api, victim, api.team_b, "Số hợp đồng bí mật 4242")
    own = victim.emails[0]

    # When agent A (team A) adds their own address to the customer
    evil = "mine@evil.example"
    changed = api.patch(
        f"/api/v1/customers/{victim.id}", role="agent_a", json={"emails": [own, evil]}
    )

    # Then the address is stored but unverified, and the customer's own stays primary
    assert changed.status_code == 200, changed.text
    assert changed.json()["emails"] == [own, evil]
    assert changed.json()["verified_emails"] == [own]

    # And a sign-in link asked for it is answered as for an unknown address, with no mail
    unknown = request_link(api, "nobody@evil.example")
    asked = request_link(api, evil)
    assert asked.status_code == unknown.status_code == 200
    assert asked.text.replace(evil, "nobody@evil.example") == unknown.text
    assert _to(api, "portal_login") == []

    # And the customer is told at their verified address, in Vietnamese, and it is audited
    told = mails(api, "address_added")
    assert [m["to_address"] for m in told] == [own]
    assert evil in told[0]["body_text"]
    assert "Quý khách" in told[0]["subject"]
    assert "customer.emails_changed" in api.run(_audit_actions, "customer", victim.id)

    # And the customer's own address still signs in and sees the case
    cookie = sign_in(api, victim)
    assert cookie
    assert secret.reference in api.client.get("/support/requests").text


def test_replacing_the_addresses_cannot_lock_the_customer_out(api: Api) -> None:
    sending_mailbox(api)
    victim = _person(api)
    own = victim.emails[0]

    # An agent (and a manager) may not remove the last verified address
    for role in ("agent_a", "manager"):
        refused = api.patch(
            f"/api/v1/customers/{victim.id}", role=role, json={"emails": ["x@evil.example"]}
        )
        assert refused.status_code == 409
        assert refused.json()["code"] == "last_verified_address"
    assert api.run(customers.get_customer, SYSTEM, victim.id).emails == [own]
    assert mails(api, "address_added") == []

    # An admin may (a mailbox the customer lost); the removed address is told
    replaced = api.patch(
        f"/api/v1/customers/{victim.id}", role="admin", json={"emails": ["moi@khach.vn"]}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["verified_emails"] == []
    assert _to(api, "address_removed") == [own]
    # and the new address typed by staff still signs nobody in
    request_link(api, "moi@khach.vn")
    assert _to(api, "portal_login") == []


def test_a_customer_writing_from_an_added_address_verifies_it(api: Api) -> None:
    box = sending_mailbox(api)
    customer = _person(api)
    added = f"tro.ly{next(_seq)}@khach.vn"
    api.patch(f"/api/v1/customers/{customer.id}", json={"emails": [customer.emails[0], added]})
    request_link(api, added)
    assert _to(api, "portal_login") == []

    # When a mail from the added address is filed
    mailbox = MailboxRef(id=box, address="hotro@congty.vn", team_id=None, auto_acknowledge=False)
    raw = build_mail(sender=added, to="hotro@congty.vn", subject="Xin hỗ trợ")
    api.run(ingest_mail, mailbox, 1, next(_seq), raw)

    # Then it is verified and may sign in
    assert added in api.run(customers.get_customer, SYSTEM, customer.id).verified_emails
    request_link(api, added)
    assert _to(api, "portal_login") == [added]


def test_a_web_form_customer_signs_in_once_and_the_link_verifies_the_address(api: Api) -> None:
    # Given a customer known only from the web form (no verified address at all)
    sending_mailbox(api)
    address = f"web{next(_seq)}@khach.vn"
    customer_id = api.run(_customer_from_web_form, address, "Khách web")
    staff_added = f"them{next(_seq)}@khach.vn"
    api.patch(f"/api/v1/customers/{customer_id}", json={"emails": [address, staff_added]})

    # Then the address they typed may get a link; the one staff added may not
    request_link(api, staff_added)
    request_link(api, address)
    sent = mails(api, "portal_login")
    assert [m["to_address"] for m in sent] == [address]

    # And using the link proves the address
    found = LINK.search(delivered_text(api, sent[0]))
    assert found is not None
    path = f"/support/login/{found.group(1)}"
    used = api.client.post(path, data={"_csrf": csrf(api, path)}, follow_redirects=False)
    assert used.status_code == 303
    customer = api.run(customers.get_customer, SYSTEM, customer_id)
    assert customer.verified_emails == [address]
    # so the staff-added address stays inert from now on too
    request_link(api, staff_added)
    assert _to(api, "portal_login") == [address]


# --- (b) sharing an organization's cases is an admin's decision ------------------


def test_sharing_an_organization_is_for_admins_and_audited(api: Api) -> None:
    org = _organization(api, shared=False)
    for role in ("agent_a", "manager"):
        refused = api.patch(
            f"/api/v1/organizations/{org}", role=role, json={"shared_visibility": True}
        )
        assert refused.status_code == 403
        assert refused.json()["code"] == "permission_denied"
    assert api.get(f"/api/v1/organizations/{org}").json()["shared_visibility"] is False
    # an agent may still edit what does not change who sees what
    assert api.patch(f"/api/v1/organizations/{org}", role="agent_a", json={"notes": "x"}).is_success

    shared = api.patch(
        f"/api/v1/organizations/{org}", role="admin", json={"shared_visibility": True}
    )
    assert shared.status_code == 200
    assert shared.json()["shared_visibility"] is True
    assert "organization.sharing_changed" in api.run(_audit_actions, "organization", org)

    # Nor may an agent let someone into a sharing organization
    domains = api.patch(
        f"/api/v1/organizations/{org}", role="agent_a", json={"domains": ["evil.example"]}
    )
    assert domains.status_code == 403
    created = api.post(
        "/api/v1/customers",
        role="agent_a",
        json={"name": "Kẻ lạ", "emails": ["spy@evil.example"], "organization_id": org},
    )
    assert created.status_code == 403
    stranger = api.post(
        "/api/v1/customers", role="agent_a", json={"name": "Kẻ lạ", "emails": ["spy@evil.example"]}
    )
    assert stranger.status_code == 201
    moved = api.patch(
        f"/api/v1/customers/{stranger.json()['id']}",
        role="agent_a",
        json={"organization_id": org},
    )
    assert moved.status_code == 403
    assert api.get(f"/api/v1/customers/{stranger.json()['id']}").json()["organization_id"] is None


# --- (c) merging data of two customers ------------------------------------------


def test_merging_cases_of_two_customers_is_confirmed_and_hides_the_source(api: Api) -> None:
    # Given X's case (a message and a file, team A) and Y's case (team A)
    sending_mailbox(api)
    x = _person(api, name="Phạm Văn Xuân")
    y = _person(api, name="Lê Thị Yến")
    source = _case(api, x, api.team_a, "Mật khẩu của tôi là hoa-mai-77", file=b"%PDF bi mat")
    target = _case(api, y, api.team_a, "Máy in của Yến hỏng")
    url = f"/api/v1/cases/{source.id}/merge"

    # When an agent merges without confirming: refused, naming both customers
    refused = api.post(url, role="agent_a", json={"target_id": target.id})
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["code"] == "confirmation_required"
    assert problem["confirm_customers"] == [x.id, y.id]
    assert problem["source_customer"] == {"id": x.id, "name": "Phạm Văn Xuân"}
    assert problem["target_customer"] == {"id": y.id, "name": "Lê Thị Yến"}
    wrong = api.post(
        url, role="agent_a", json={"target_id": target.id, "confirm_customers": [y.id, x.id]}
    )
    assert wrong.status_code == 409
    assert api.run(cases.get_case, SYSTEM, source.id).merged_into_id is None

    # When the agent confirms
    merged = api.post(
        url, role="agent_a", json={"target_id": target.id, "confirm_customers": [x.id, y.id]}
    )
    assert merged.status_code == 200, merged.text

    # Then staff read X's message in the target, still by X, as an internal note
    staff_view = api.run(messages.list_messages, SYSTEM, target.id)
    moved = [m for m in staff_view if "hoa-mai-77" in m.body_text]
    assert [(m.kind, m.author_customer_id) for m in moved] == [("note", x.id)]
    file_id = moved[0].attachments[0].id

    # And Y sees neither the message nor the file: portal pages and the services they use
    y_principal = api.run(principal_for_customer, y.id)
    assert all(
        "hoa-mai-77" not in m.body_text
        for m in api.run(messages.list_messages, y_principal, target.id)
    )
    sign_in(api, y)
    page = api.client.get(f"/support/requests/{target.id}")
    assert page.status_code == 200
    assert "Máy in của Yến hỏng" in page.text
    assert "hoa-mai-77" not in page.text
    assert "hop-dong.pdf" not in page.text
    assert api.client.get(f"/support/attachments/{file_id}").status_code == 404
    assert "case.merged" in api.run(_audit_actions, "case", target.id)


def test_merging_cases_across_organizations_needs_an_admin(api: Api) -> None:
    x = _person(api, organization=_organization(api, shared=False))
    y = _person(api, organization=_organization(api, shared=False))
    source = _case(api, x, api.team_a, "Xin chào")
    target = _case(api, y, api.team_a, "Xin chào")
    body = {"target_id": target.id, "confirm_customers": [x.id, y.id]}
    for role in ("agent_a", "manager"):
        refused = api.post(f"/api/v1/cases/{source.id}/merge", role=role, json=body)
        assert refused.status_code == 403
        assert refused.json()["code"] == "cross_organization_merge"
    unconfirmed = api.post(
        f"/api/v1/cases/{source.id}/merge", role="admin", json={"target_id": target.id}
    )
    assert unconfirmed.status_code == 409
    assert unconfirmed.json()["code"] == "confirmation_required"
    assert api.post(f"/api/v1/cases/{source.id}/merge", role="admin", json=body).status_code == 200


def test_cases_of_one_customer_merge_as_before(api: Api) -> None:
    x = _person(api)
    source = _case(api, x, api.team_a, "Lần một")
    target = _case(api, x, api.team_a, "Lần hai")
    merged = api.post(
        f"/api/v1/cases/{source.id}/merge", role="agent_a", json={"target_id": target.id}
    )
    assert merged.status_code == 200, merged.text
    kinds = [m.kind for m in api.run(messages.list_messages, SYSTEM, target.id)]
    assert kinds == ["customer", "customer", "note"]  # the two messages, then the merge note


def test_the_console_asks_to_confirm_a_merge_naming_both_customers(api: Api) -> None:
    x = _person(api, name="Đỗ Minh Xuân")
    y = _person(api, name="Vũ Hải Yến")
    source = _case(api, x, api.team_a, "Xin chào")
    target = _case(api, y, api.team_a, "Xin chào")
    token = console_sign_in(api, "agent_a")
    url = f"/console/cases/{source.id}/merge"

    asked = api.client.post(url, data={"target": target.reference, "_csrf": token})
    assert asked.status_code == 409
    assert "Đỗ Minh Xuân" in asked.text
    assert "Vũ Hải Yến" in asked.text
    assert f'name="confirm_customers" value="{x.id},{y.id}"' in asked.text
    assert api.run(cases.get_case, SYSTEM, source.id).merged_into_id is None

    form = {"target": str(target.id), "confirm_customers": f"{x.id},{y.id}", "_csrf": token}
    done = api.client.post(url, data=form, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/cases/{target.id}"
    assert api.run(cases.get_case, SYSTEM, source.id).merged_into_id == target.id


def test_the_console_says_only_an_admin_merges_across_organizations(api: Api) -> None:
    x = _person(api, organization=_organization(api, shared=False))
    y = _person(api, organization=_organization(api, shared=False))
    source = _case(api, x, api.team_a, "Xin chào")
    target = _case(api, y, api.team_a, "Xin chào")
    token = console_sign_in(api, "manager")
    form = {"target": str(target.id), "confirm_customers": f"{x.id},{y.id}", "_csrf": token}
    refused = api.client.post(f"/console/cases/{source.id}/merge", data=form)
    assert refused.status_code == 403
    assert "chỉ quản trị viên mới được gộp" in refused.text
    assert api.run(cases.get_case, SYSTEM, source.id).merged_into_id is None


def test_merging_customers_is_confirmed_and_admin_only_across_organizations(api: Api) -> None:
    x = _person(api)
    y = _person(api)
    url = f"/api/v1/customers/{x.id}/merge"
    refused = api.post(url, role="manager", json={"target_id": y.id})
    assert refused.status_code == 409
    assert refused.json()["code"] == "confirmation_required"
    assert refused.json()["confirm_customers"] == [x.id, y.id]
    done = api.post(
        url, role="manager", json={"target_id": y.id, "confirm_customers": [x.id, y.id]}
    )
    assert done.status_code == 200, done.text

    # A customer without organization into a member of a sharing organization: admins only
    lone = _person(api)
    member = _person(api, organization=_organization(api, shared=True))
    body = {"target_id": member.id, "confirm_customers": [lone.id, member.id]}
    across = api.post(f"/api/v1/customers/{lone.id}/merge", role="manager", json=body)
    assert across.status_code == 403
    assert across.json()["code"] == "cross_organization_merge"
    assert api.post(f"/api/v1/customers/{lone.id}/merge", role="admin", json=body).is_success
