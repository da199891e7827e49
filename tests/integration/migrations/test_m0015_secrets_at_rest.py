"""m0015 takes the links out of the system mails queued before it (both engines)."""

from __future__ import annotations

from typing import Any

from piccolo.engine.base import Engine

from helpdesk.migrations import migrate, migration_names
from tests.integration.migrations.test_upgrade import NOW, SHA, _write_rows

STEP = "m0015_secrets_at_rest"
TAG = "0123456789abcdef" * 2
LOGIN_TOKEN = "Zk3_yQ-9" * 5


async def _insert_mail(engine: Engine[Any], kind: str, status: str, body: str, n: int) -> None:
    await engine.run_ddl(
        'INSERT INTO "outbound_mail" ("case", mailbox, kind, to_address, message_id, subject, '
        f"body_text, status, created_at) VALUES (1, 1, '{kind}', 'an@anbinh.vn', "
        f"'<m15-{n}@support.test>', 'x', '{body}', '{status}', {NOW})"
    )


async def test_m0015_scrubs_links_from_queued_and_sent_mails(fresh_engine: Engine[Any]) -> None:
    # Given a database just before m0015, with sign-in and survey mails holding links
    names = migration_names()
    before = names[: names.index(STEP)]
    await migrate(fresh_engine, until=before[-1])
    await _write_rows(fresh_engine, [n for n in before if n in ("m0001_core", "m0002_email")])
    survey = f"Rate us: https://hd.vn/support/survey/1.1764300000000000.{TAG} thanks"
    login = f"Sign in: https://hd.vn/support/login/{LOGIN_TOKEN} (15 minutes)"
    await _insert_mail(fresh_engine, "survey", "pending", survey, 1)
    await _insert_mail(fresh_engine, "portal_login", "sent", login, 2)
    await _insert_mail(fresh_engine, "portal_login", "pending", login, 3)
    await fresh_engine.run_ddl(
        "INSERT INTO portal_login_tokens (token_hash, customer, expires_at, created_at) "
        f"VALUES ('{SHA}', 1, '2999-01-01 00:00:00+00', {NOW})"
    )

    # When it is migrated to head
    await migrate(fresh_engine)

    # Then no link is left, a queued survey keeps its (placeholder) link,
    # a queued sign-in mail is withdrawn, and unused sign-in links are expired
    rows = await fresh_engine.run_ddl(
        "SELECT message_id, status, body_text FROM outbound_mail WHERE message_id LIKE '<m15-%'"
        " ORDER BY message_id"
    )
    texts = {row["message_id"]: (row["status"], row["body_text"]) for row in rows}
    assert texts["<m15-1@support.test>"] == (
        "pending",
        "Rate us: https://hd.vn/support/survey/{{token:survey:1.1764300000000000}} thanks",
    )
    assert texts["<m15-2@support.test>"] == (
        "sent",
        "Sign in: https://hd.vn/support/login (15 minutes)",
    )
    assert texts["<m15-3@support.test>"][0] == "failed"
    assert LOGIN_TOKEN not in repr(rows)
    assert TAG not in repr(rows)
    links = await fresh_engine.run_ddl("SELECT expires_at FROM portal_login_tokens")
    assert links
    assert all("2999" not in str(row["expires_at"]) for row in links)

    # And running it again changes nothing
    from helpdesk.migrations.m0015_secrets_at_rest import apply

    await apply(fresh_engine)
    again = await fresh_engine.run_ddl(
        "SELECT message_id, status, body_text FROM outbound_mail WHERE message_id LIKE '<m15-%'"
        " ORDER BY message_id"
    )
    assert {row["message_id"]: (row["status"], row["body_text"]) for row in again} == texts
