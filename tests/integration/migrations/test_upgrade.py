"""Upgrading a database made at any earlier step keeps its rows and reaches the
schema of a fresh one.

For every migration but the last: migrate an empty database up to that step,
write representative rows with raw SQL valid at that step (the rows of every
step so far), migrate to head, then read every table through the live table
classes and the services, open a new case, and compare the schema with the
one a fresh database gets.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from piccolo.engine.base import Engine

from helpdesk.channels.email.tables import OutboundMail
from helpdesk.db import is_postgres
from helpdesk.migrations import migrate, migration_names
from helpdesk.policy import SYSTEM
from helpdesk.services import cases, messages
from helpdesk.tables import Job, all_tables
from tests.factories import make_case
from tests.integration.migrations.conftest import EmptyDatabases, open_engine, shut_engine
from tests.integration.migrations.schema import Schema, differences, read_schema

NOW = "CURRENT_TIMESTAMP"
SHA = "ab" * 32

# Rows each step's tables can hold, written as that step's schema allows
# (no column a later step added). Ids are left to the database: the first
# row of each table is 1. Every migration has an entry: add yours.
STEP_ROWS: dict[str, tuple[tuple[str, str], ...]] = {
    "m0001_core": (
        ("organizations", f"(name, notes, created_at) VALUES ('Công ty An Bình', '', {NOW})"),
        ("organization_domains", "(organization, domain) VALUES (1, 'anbinh.vn')"),
        (
            "customers",
            "(name, phone, locale, organization, search_text, created_at) "
            f"VALUES ('Nguyễn Văn An', '', 'vi', 1, 'nguyen van an', {NOW})",
        ),
        ("customer_emails", "(customer, address, is_primary) VALUES (1, 'an@anbinh.vn', true)"),
        (
            "agents",
            "(name, email, role, languages, skills, capacity, active, availability, created_at) "
            "VALUES ('Trần Thị Bích', 'bich@support.test', 'agent', '[\"vi\"]', '[]', 10, "
            f"true, 'online', {NOW})",
        ),
        ("api_tokens", f"(agent, name, token_hash, created_at) VALUES (1, 'ci', '{SHA}', {NOW})"),
        (
            "teams",
            f"(name, description, is_default, created_at) VALUES ('Hỗ trợ', '', true, {NOW})",
        ),
        ("team_members", "(team, agent) VALUES (1, 1)"),
        (
            "cases",
            "(subject, status, priority, channel, customer, organization, team, assignee, tags, "
            "language, version, search_text, created_at, updated_at) VALUES ('Không đăng nhập "
            "được', 'open', 'high', 'email', 1, 1, 1, 1, '[\"login\"]', 'vi', 1, '', "
            f"{NOW}, {NOW})",
        ),
        ("case_tags", "(\"case\", tag) VALUES (1, 'login')"),
        (
            "messages",
            '("case", kind, author_customer, channel, body_text, external_id, meta, created_at) '
            "VALUES (1, 'customer', 1, 'email', 'Tôi không đăng nhập được.', "
            f"'<m1@anbinh.vn>', '{{}}', {NOW})",
        ),
        (
            "attachments",
            "(message, sha256, filename, content_type, size, created_at) "
            f"VALUES (1, '{SHA}', 'loi.png', 'image/png', 10, {NOW})",
        ),
        ("event_streams", "(stream, last_seq) VALUES ('case:1', 1)"),
        (
            "outbox_events",
            "(stream, seq, type, payload, created_at) "
            f"VALUES ('case:1', 1, 'case.created', '{{\"case_id\": 1}}', {NOW})",
        ),
        (
            "audit_log",
            '(actor_kind, "case", entity, entity_id, action, changes, created_at) '
            f"VALUES ('system', 1, 'case', 1, 'create', '{{}}', {NOW})",
        ),
    ),
    "m0002_email": (
        (
            "mailboxes",
            "(name, address, team, imap_host, imap_user, created_at) "
            f"VALUES ('Hỗ trợ', 'support@anbinh.vn', 1, 'imap.test', 'support', {NOW})",
        ),
        (
            "inbound_mail",
            '(mailbox, uidvalidity, uid, message_id, raw_sha256, size, outcome, "case", '
            f"message, received_at) VALUES (1, 7, 1, '<m1@anbinh.vn>', '{SHA}', 100, "
            f"'message', 1, 1, {NOW})",
        ),
        ("thread_keys", "(\"case\", key) VALUES (1, '<m1@anbinh.vn>')"),
        (
            "outbound_mail",
            '("case", message, mailbox, kind, to_address, message_id, status, created_at) '
            "VALUES (1, 1, 1, 'acknowledgement', 'an@anbinh.vn', '<ack1@support.test>', "
            f"'pending', {NOW})",
        ),
        (
            "outbound_mail",
            "(mailbox, kind, to_address, message_id, subject, body_text, status, sent_at, "
            "created_at) VALUES (1, 'size_notice', 'an@anbinh.vn', '<big1@support.test>', "
            f"'Thư quá lớn', 'Thư của bạn quá lớn.', 'sent', {NOW}, {NOW})",
        ),
        (
            "auto_reply_log",
            f"(mailbox, address, kind, sent_at) VALUES (1, 'an@anbinh.vn', 'ack', {NOW})",
        ),
        (
            "customer_emails",
            "(customer, address, is_primary, bounced_at) "
            f"VALUES (1, 'an.cu@anbinh.vn', false, {NOW})",
        ),
    ),
    "m0003_routing": (
        (
            "routing_rules",
            "(name, position, enabled, conditions, actions, created_at, updated_at) "
            f"VALUES ('VIP', 0, true, '{{}}', '{{\"team_id\": 1}}', {NOW}, {NOW})",
        ),
        (
            "team_routing",
            "(team, strategy, required_skill, last_agent, updated_at) "
            f"VALUES (1, 'round_robin', '', 1, {NOW})",
        ),
        (
            "case_routing",
            f"(\"case\", rule_id, rule_name, routed_at) VALUES (1, 1, 'VIP', {NOW})",
        ),
    ),
    "m0004_sla": (
        (
            "sla_calendars",
            "(name, definition, created_at, updated_at) "
            f"VALUES ('Giờ làm việc', '{{}}', {NOW}, {NOW})",
        ),
        (
            "sla_policies",
            "(name, position, enabled, conditions, targets, warn_percent, escalation, calendar, "
            "version, created_at, updated_at) VALUES ('Chuẩn', 0, true, '{}', "
            f'\'{{"normal": {{"first_response": "PT4H"}}}}\', 80, \'{{}}\', 1, 1, {NOW}, {NOW})',
        ),
        (
            "case_sla_timers",
            '("case", metric, policy_id, policy_version, timer, active, paused, started_at, '
            "due_at, fire_at, updated_at) VALUES (1, 'first_response', 1, 1, "
            '\'{"target": "PT4H", "started_at": "2026-01-05T02:00:00Z"}\', true, false, '
            f"{NOW}, {NOW}, {NOW}, {NOW})",
        ),
    ),
    "m0005_knowledge_base": (
        (
            "kb_categories",
            "(name_vi, name_en, position, created_at, updated_at) "
            f"VALUES ('Tài khoản', 'Account', 0, {NOW}, {NOW})",
        ),
        ("kb_translation_groups", f"(created_at) VALUES ({NOW})"),
        (
            "kb_articles",
            "(translation_group, locale, category, status, title_words, body_words, author, "
            "created_at, updated_at, published_at, tags, title, search_title, body_text, "
            "search_body, body_md, body_html) VALUES (1, 'vi', 1, 'published', 4, 4, 1, "
            f"{NOW}, {NOW}, {NOW}, '[]', 'Đặt lại mật khẩu', 'dat lai mat khau', "
            "'Bấm quên mật khẩu.', 'bam quen mat khau', 'Bấm quên mật khẩu.', "
            "'<p>Bấm quên mật khẩu.</p>')",
        ),
        (
            "kb_article_versions",
            "(article, version, title, body_md, editor, created_at) "
            f"VALUES (1, 1, 'Mật khẩu', '', 1, {NOW})",
        ),
        ("kb_article_tags", "(article, tag) VALUES (1, 'mat-khau')"),
    ),
    "m0006_console": (
        (
            "macros",
            "(name, body, created_by, created_at, updated_at) "
            f"VALUES ('Chào', 'Xin chào', 1, {NOW}, {NOW})",
        ),
    ),
    "m0007_portal": (
        (
            "portal_login_tokens",
            f"(token_hash, customer, expires_at, created_at) VALUES ('{SHA}', 1, {NOW}, {NOW})",
        ),
        (
            "survey_responses",
            '("case", customer, solve_key, rating, comment, created_at) '
            f"VALUES (1, 1, '1764300000000000', 5, 'Tốt', {NOW})",
        ),
    ),
    "m0008_kb_feedback": (
        (
            "kb_feedback",
            f"(article, helpful, comment, locale, created_at) VALUES (1, true, '', 'vi', {NOW})",
        ),
        (
            "kb_deflection_events",
            f"(token, kind, article, created_at) VALUES ('form-1', 'shown', 1, {NOW})",
        ),
    ),
    "m0009_jobs": (
        (
            "jobs",
            "(actor, queue, args, created_at, attempts, failed_at, last_error) "
            f"VALUES ('send_mail', 'mail', '[1]', {NOW}, 5, {NOW}, '421 try later')",
        ),
    ),
    "m0010_idempotency": (
        (
            "idempotency_keys",
            "(scope, key, request_fingerprint, status_code, content_type, location, changes, "
            f"created_at) VALUES ('agent:1', 'k-1', '{SHA}', 201, 'application/json', "
            f"'/api/v1/cases/1', '[]', {NOW})",
        ),
    ),
    "m0011_outbound_delivery": (
        (
            "outbound_mail",
            '("case", kind, to_address, message_id, status, attempts, sent_at, created_at, '
            "server_reply, unknown_outcomes) VALUES (1, 'reply', 'an@anbinh.vn', "
            f"'<r1@support.test>', 'sent', 1, {NOW}, {NOW}, '250 2.0.0 OK', 0)",
        ),
    ),
    "m0012_web_sessions": (
        (
            "web_sessions",
            "(digest, face, subject_id, created_at, expires_at) "
            f"VALUES ('{SHA}', 'console', 1, {NOW}, {NOW})",
        ),
    ),
    "m0013_outbound_mail_repair": (),
    "m0014_verified_addresses": (
        (
            "customer_emails",
            "(customer, address, is_primary, verified_at, added_by_staff) "
            "VALUES (1, 'moi@anbinh.vn', false, NULL, true)",
        ),
    ),
    "m0015_secrets_at_rest": (
        (
            "api_tokens",
            "(agent, name, token_hash, created_at, revoked, revoked_at) "
            f"VALUES (1, 'old laptop', '{'cd' * 32}', {NOW}, true, {NOW})",
        ),
        (
            "outbound_mail",
            '("case", mailbox, kind, to_address, message_id, subject, body_text, status, '
            "created_at) VALUES (1, 1, 'survey', 'an@anbinh.vn', '<s1@support.test>', "
            "'Góp ý', 'https://x.vn/support/survey/{{token:survey:1.1764300000000000}}', "
            f"'pending', {NOW})",
        ),
    ),
    "m0016_chat_contacts": (
        (
            "chat_contacts",
            '(customer, "case", name, address, created_at) '
            f"VALUES (1, 1, 'Khách chat', 'an@khach.vn', {NOW})",
        ),
    ),
    "m0017_notifications": (
        (
            "notifications",
            '(agent, kind, "case", actor, params, dedupe_key, created_at) VALUES (1, '
            f"'assigned', 1, NULL, '{{\"subject\": \"Lỗi\"}}', 'assigned:1:None>1:2', {NOW})",
        ),
        (
            "notification_settings",
            "(agent, kind, in_console, by_email) VALUES (1, 'mentioned', true, true)",
        ),
    ),
    "m0018_agent_signatures": (
        (
            "agents",
            "(name, email, role, languages, skills, capacity, active, availability, created_at, "
            "signature) VALUES ('Lê Văn Cường', 'cuong@support.test', 'agent', '[\"vi\"]', '[]', "
            f"10, true, 'offline', {NOW}, 'Trân trọng,\n**Cường**')",
        ),
    ),
    "m0019_case_search": (
        # The document of case 1 as m0019's backfill makes it (case 1 exists from m0001).
        (
            "case_search",
            "(id, subject, doc, notes) VALUES (1, 'khong dang nhap duoc', "
            "'khong dang nhap duoc login nguyen van an an@anbinh.vn cong ty an binh', '')",
        ),
    ),
    "m0020_mail_visibility": (
        (
            "demo_mail",
            "(mail_from, recipients, subject, content, received_at) VALUES ('support@anbinh.vn', "
            f"'an@anbinh.vn', 'Liên kết đăng nhập', 'Subject: x', {NOW})",
        ),
    ),
    "m0022_customer_notes": (
        (
            "customers",
            "(name, phone, locale, search_text, created_at, notes) VALUES ('Trần Thị Gọi', "
            f"'0903 123 456', 'vi', 'tran thi goi', {NOW}, 'Khách gọi điện, thích được gọi lại')",
        ),
    ),
    "m0023_agent_auto_away": (
        (
            "agents",
            "(name, email, password_hash, role, languages, skills, capacity, active, "
            "availability, created_at, auto_away) VALUES ('Lê Văn Vắng', 'vang@anbinh.vn', '', "
            f"'agent', '[\"vi\"]', '[]', 5, true, 'away', {NOW}, true)",
        ),
    ),
    "m0025_saved_views": (
        (
            "saved_views",
            "(owner, name, shared, definition, created_at, updated_at) VALUES (1, "
            '\'Hoá đơn chờ xử lý\', true, \'{"queue": "all", "filters": {"tag": '
            f'"hoa-don"}}, "sort": "-updated"}}\', {NOW}, {NOW})',
        ),
    ),
    "m0026_agent_profile": (
        (
            "agents",
            "(name, email, password_hash, role, languages, skills, capacity, active, "
            "availability, created_at, avatar, avatar_type, locale) VALUES ('Hồ Thị Ảnh', "
            f"'anh@anbinh.vn', '', 'agent', '[\"vi\", \"en\"]', '[]', 5, true, 'offline', {NOW}, "
            "'', '', 'en')",
        ),
    ),
}


def jobs_made_by_m0009(steps: list[str]) -> set[tuple[str, tuple[int, ...]]]:
    """The jobs m0009 derives from a database at the end of ``steps``: what an
    older database left to its queue, case 1 (never routed) and, from m0002
    on, the pending acknowledgement (mail 1)."""
    if "m0009_jobs" in steps:
        return set()
    jobs: set[tuple[str, tuple[int, ...]]] = {("route_new_case", (1,))}
    if "m0002_email" in steps:
        jobs.add(("send_mail", (1,)))
    return jobs


def test_every_migration_has_representative_rows() -> None:
    assert sorted(STEP_ROWS) == migration_names(), (
        "STEP_ROWS must name every migration (an empty tuple for one that adds no table)"
    )


async def _write_rows(engine: Engine[Any], steps: list[str]) -> Counter[str]:
    written: Counter[str] = Counter()
    for step in steps:
        for table, values in STEP_ROWS[step]:
            await engine.run_ddl(f'INSERT INTO "{table}" {values}')
            written[table] += 1
    return written


async def _search_finds_the_article(engine: Engine[Any]) -> bool:
    if is_postgres(engine):
        sql = "SELECT id FROM kb_articles WHERE search_tsv @@ to_tsquery('simple', 'khau')"
    else:
        sql = "SELECT rowid AS id FROM kb_search WHERE kb_search MATCH 'khau'"
    rows = await engine.run_ddl(sql)
    return [row["id"] for row in rows] == [1]


@pytest.mark.parametrize("step", migration_names()[:-1])
async def test_upgrade_from_each_step_keeps_the_rows(
    step: str, empty_databases: EmptyDatabases, head_schema: Schema
) -> None:
    names = migration_names()
    steps = names[: names.index(step) + 1]
    engine = await empty_databases.engine()
    await open_engine(engine)
    try:
        # Given a database at ``step`` with rows of every step so far
        assert await migrate(engine, until=step) == steps
        written = await _write_rows(engine, steps)

        # When it is migrated to head
        assert await migrate(engine) == names[len(steps) :]

        # Then every row is there and every table reads through its live class
        live = {table._meta.tablename: table for table in all_tables()}
        counts = {name: len(await table.select()) for name, table in live.items()}
        expected = {name: written.get(name, 0) for name in live}
        expected["schema_migrations"] = len(names)
        made_by_m0009 = jobs_made_by_m0009(steps)
        expected["jobs"] += len(made_by_m0009)
        if "m0019_case_search" not in steps:  # its backfill indexes every case
            expected["case_search"] = written["cases"]
        assert counts == expected

        case = await cases.get_case(SYSTEM, 1)
        assert (case.subject, case.status, case.tags) == ("Không đăng nhập được", "open", ["login"])
        assert [m.body_text for m in await messages.list_messages(SYSTEM, 1)] == [
            "Tôi không đăng nhập được."
        ]
        if made_by_m0009:
            query = Job.select(Job.actor, Job.args).where(Job.failed_at.is_null())
            rows = await query.output(load_json=True)
            assert {(r["actor"], tuple(r["args"])) for r in rows} == made_by_m0009
        if "m0005_knowledge_base" in steps:
            assert await _search_finds_the_article(engine)

        # and the database takes new cases, numbered after the old one
        new_case = await make_case()
        assert new_case.id == 2

        # and its schema is the one a fresh database gets
        drift = differences(head_schema, await read_schema(engine))
        assert not drift, f"upgraded from {step}, the schema drifted:\n  " + "\n  ".join(drift)
    finally:
        await shut_engine(engine)
        await empty_databases.drop()


FIRST_M0002_OUTBOUND_MAIL = (
    'CREATE TABLE "outbound_mail" ("id" {serial} PRIMARY KEY NOT NULL, '
    '"case" INTEGER NOT NULL REFERENCES "cases" ("id") ON DELETE CASCADE ON UPDATE CASCADE '
    'DEFAULT null, "message" INTEGER REFERENCES "messages" ("id") ON DELETE CASCADE '
    'ON UPDATE CASCADE DEFAULT null, "mailbox" INTEGER REFERENCES "mailboxes" ("id") '
    "ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "
    "\"kind\" VARCHAR(16) NOT NULL DEFAULT '', "
    "\"to_address\" VARCHAR(320) NOT NULL DEFAULT '', "
    "\"message_id\" VARCHAR(998) UNIQUE NOT NULL DEFAULT '', "
    "\"status\" VARCHAR(16) NOT NULL DEFAULT 'pending', "
    '"attempts" INTEGER NOT NULL DEFAULT 0, '
    "\"last_error\" TEXT NOT NULL DEFAULT '', "
    '"claimed_at" TIMESTAMPTZ DEFAULT null, "sent_at" TIMESTAMPTZ DEFAULT null, '
    '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)'
)
"""``outbound_mail`` as the first m0002 (commit d8dffc0, edited before release)
created it: ``case`` required, no ``subject`` nor ``body_text``."""


async def test_upgrade_mends_outbound_mail_of_the_first_m0002(
    empty_databases: EmptyDatabases, head_schema: Schema
) -> None:
    engine = await empty_databases.engine()
    await open_engine(engine)
    try:
        # Given a database whose m0002 was the first one, with a mail in it
        await migrate(engine, until="m0002_email")
        await engine.run_ddl('DROP TABLE "outbound_mail"')
        serial = "SERIAL" if is_postgres(engine) else "INTEGER"
        await engine.run_ddl(FIRST_M0002_OUTBOUND_MAIL.format(serial=serial))
        await engine.run_ddl('CREATE INDEX ix_outbound_mail_status ON "outbound_mail" ("status")')
        await _write_rows(engine, ["m0001_core"])
        await engine.run_ddl(
            'INSERT INTO "outbound_mail" ("case", kind, to_address, message_id, status) '
            "VALUES (1, 'acknowledgement', 'an@anbinh.vn', '<ack1@support.test>', 'sent')"
        )

        # When it is migrated to head
        await migrate(engine)

        # Then the mail is kept, a notice without a case can be queued,
        # and the schema is the one a fresh database gets
        rows = await OutboundMail.select(OutboundMail.id, OutboundMail.case, OutboundMail.subject)
        assert rows == [{"id": 1, "case": 1, "subject": ""}]
        await OutboundMail.insert(
            OutboundMail(
                kind="size_notice",
                to_address="an@anbinh.vn",
                message_id="<big1@support.test>",
                subject="Thư quá lớn",
            )
        )
        assert await OutboundMail.count().where(OutboundMail.case.is_null()) == 1
        drift = differences(head_schema, await read_schema(engine))
        assert not drift, "outbound_mail not mended:\n  " + "\n  ".join(drift)
    finally:
        await shut_engine(engine)
        await empty_databases.drop()
