"""Threat: a visitor, a customer or an agent who sends whatever bytes they like.

Property-based fuzzing (Hypothesis) of the routes schemathesis does not reach
(the public web form and the portal, the console's pages and forms, the JSON
endpoints' raw bodies) and of the three websockets (``/console/ws``,
``/support/ws``, ``/chat/ws``), anonymous and signed in, on both engines.

Promised: no input is answered with a 5xx, no socket request gets a
``server_error`` frame or a 1011 close, and nothing is logged at ERROR by the
application's loggers (a traceback is a bug even when the client saw a 4xx).
Inputs: random and hostile text in every field (control characters, CR/LF,
non-ASCII digits, huge values), invalid UTF-8, deeply nested and huge JSON,
wrong content types, multipart bodies with random files, bogus cookies and
CSRF tokens; for sockets, random JSON, non-JSON text, binary and huge frames,
and every op with fields of the wrong type.

Each property runs a fixed, small number of derandomized examples (about
ten seconds per engine), so the suite stays fast and a failure replays.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.exceptions import WebSocketDisconnect

from helpdesk.policy import SYSTEM
from helpdesk.schemas import AttachmentIn, MessageIn
from helpdesk.services import messages
from tests.integration.api._portal_setup import case_of, new_customer, sign_in
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
SOCKET_FUZZ = settings(FUZZ, max_examples=80)

APP_LOGGERS = ("helpdesk", "portal", "agent_console", "knowledge_base", "litestar")
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')

# --- what is sent -----------------------------------------------------------------

NASTY = [
    "",
    " ",
    "\r\n",
    "Lan\r\nBcc: attacker@evil.test",
    "a\x00b",
    "\x1b[31m\x07\x85\u2028",
    "١٢٣",  # Arabic-Indic digits: str.isdigit() is true, int() takes them
    "²",  # a digit for str.isdigit(), not for int()
    "٣" * 5,
    "-1",
    "0",
    "2147483648",
    "9" * 30,
    "9" * 5000,  # past int()'s digit limit
    "1e309",
    "NaN",
    "true",
    "null",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00%0d%0a",
    "../../../../etc/passwd",
    "Đơn hàng chưa giao 📦",
    "x" * 70_000,
]
FIELDS = [
    "_csrf", "email", "password", "name", "subject", "message", "body", "website",
    "idempotency_key", "kb_token", "rating", "comment", "status", "priority", "team",
    "tags", "version", "assignee", "target", "target_id", "availability", "helpful",
    "ids", "t", "q", "next", "lang", "enabled", "role", "capacity", "active", "is_default",
    "members", "description", "address", "smtp_host", "imap_host", "conditions",
    "timezone", "hours", "first_response_minutes", "resolution_minutes", "macro",
    "confirm_customers",
]  # fmt: skip

texts = st.one_of(st.sampled_from(NASTY), st.text(max_size=40))
form_fields = st.dictionaries(st.sampled_from(FIELDS), texts, max_size=6)
files = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(["a.txt", "ảnh\r\n.png", "", "x" * 300]), st.text(max_size=20)),
        st.binary(max_size=300),
        st.sampled_from(["text/plain", "image/png", "bogus", "a/b\r\nX-Evil: 1", ""]),
    ),
    max_size=2,
)
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        texts,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4)
    ),
    max_leaves=12,
)
deeply_nested = st.sampled_from(
    [b"[" * 5000 + b"]" * 5000, b'{"a":' * 3000 + b"1" + b"}" * 3000, b"[" * 100_000]
)
invalid_utf8 = st.sampled_from(
    [b'{"name": "\xff\xfe"}', b'{"subject": "a\xc3"}', b"\xed\xa0\x80", b"name=\xff&email=\xc3"]
)
raw_bodies = st.one_of(deeply_nested, invalid_utf8, st.binary(max_size=200))
content_types = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=zzz",
        "text/plain",
        "application/octet-stream",
        "",
    ]
)


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    """The keyword arguments of one request's body, of a random kind."""
    kind = draw(st.sampled_from(["none", "form", "multipart", "json", "raw"]))
    if kind == "form":
        return {"data": draw(form_fields)}
    if kind == "multipart":
        named = [("attachments", (n, c, t)) for n, c, t in draw(files)]
        return {"data": draw(form_fields), "files": named or [("attachments", ("a", b"", ""))]}
    if kind == "json":
        return {"content": json.dumps(draw(json_values)).encode(),
                "headers": {"content-type": "application/json"}}  # fmt: skip
    if kind == "raw":
        return {"content": draw(raw_bodies), "headers": {"content-type": draw(content_types)}}
    return {}


def path_value(kind: str) -> st.SearchStrategy[str]:
    """A value for a path parameter of ``kind`` (int, str or path)."""
    ints = st.sampled_from(["1", "2", "3", "0", "2147483647", "2147483648", "99999999999999999999"])
    if kind == "int":
        return ints
    return st.one_of(ints, texts.filter(bool).map(lambda t: quote(t[:300], safe="")))


# --- checks ------------------------------------------------------------------------


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged_errors() -> Iterator[list[logging.LogRecord]]:
    """Records at ERROR or above of the application's loggers during the test."""
    handler = _Records()
    loggers = [logging.getLogger(name) for name in APP_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def _no_errors(records: list[logging.LogRecord], what: str) -> None:
    assert not records, (what, [r.getMessage() for r in records])


def _routes(api: Api, prefixes: tuple[str, ...]) -> list[tuple[str, str, dict[str, str]]]:
    """(method, path format, {parameter: kind}) of the HTTP routes under ``prefixes``."""
    found: list[tuple[str, str, dict[str, str]]] = []
    for route in api.app.routes:
        if not route.path.startswith(prefixes) or "logout" in route.path:
            continue
        kinds = {name: p.type.__name__ for name, p in route.path_parameters.items()}
        found.extend(
            (method, route.path_format, kinds)
            for method in sorted(getattr(route, "methods", ()))
            if method not in ("OPTIONS", "HEAD")
        )
    assert found, prefixes
    return sorted(found)


@st.composite
def requests(draw: st.DrawFn, routes: list[tuple[str, str, dict[str, str]]]) -> dict[str, Any]:
    """One request to one of ``routes``, with a random body, session and CSRF token."""
    method, path, kinds = draw(st.sampled_from(routes))
    for name, kind in kinds.items():
        path = path.replace("{" + name + "}", draw(path_value(kind)))
    return {
        "method": method,
        "url": path,
        "body": draw(bodies()),
        "session": draw(st.sampled_from(["signed_in", "none", "bogus"])),
        "csrf": draw(st.sampled_from(["valid", "bogus", "missing"])),
    }


def _send(api: Api, cookie_name: str, cookie: str, csrf: str, req: dict[str, Any]) -> Any:
    body = dict(req["body"])
    headers = dict(body.pop("headers", {}))
    if req["session"] == "signed_in":
        headers["cookie"] = f"{cookie_name}={cookie}"
    elif req["session"] == "bogus":
        headers["cookie"] = f"{cookie_name}=x{cookie[::-1]}"
    if req["csrf"] != "missing":
        headers["x-csrf-token"] = csrf if req["csrf"] == "valid" else csrf[::-1]
        if isinstance(body.get("data"), dict):
            body["data"] = {**body["data"], "_csrf": headers["x-csrf-token"]}
    api.client.cookies.clear()
    return api.client.request(
        req["method"], req["url"], headers=headers, follow_redirects=False, **body
    )


def _fuzz_http(
    api: Api, logged: list[logging.LogRecord], routes: Any, cookie_name: str, csrf: str
) -> None:
    cookie = api.client.cookies.get(cookie_name) or "none"

    @FUZZ
    @given(req=requests(routes))
    def check(req: dict[str, Any]) -> None:
        response = _send(api, cookie_name, cookie, csrf, req)
        assert response.status_code < 500, (req["method"], req["url"], response.text[:300])
        _no_errors(logged, f"{req['method']} {req['url']}")

    check()


def _seed_case_with_file(api: Api, customer: Any) -> None:
    case = case_of(api, customer)
    files = [AttachmentIn(filename="hóa đơn.pdf", content=b"%PDF-1.4")]
    api.run(messages.add_note, SYSTEM, case.id, MessageIn(body="x", attachments=files))


# --- HTTP --------------------------------------------------------------------------


def test_no_portal_or_public_route_answers_a_server_error(
    api: Api, logged_errors: list[logging.LogRecord]
) -> None:
    customer = new_customer(api)
    _seed_case_with_file(api, customer)
    sign_in(api, customer)
    page = api.client.get("/support/requests")
    csrf = CSRF.search(page.text)
    routes = _routes(api, ("/support", "/chat", "/api/v1/public"))
    _fuzz_http(api, logged_errors, routes, "hd_portal", csrf.group(1) if csrf else "none")


def test_no_console_route_answers_a_server_error(
    api: Api, logged_errors: list[logging.LogRecord]
) -> None:
    _seed_case_with_file(api, new_customer(api))
    csrf = console_sign_in(api, "admin")
    cookie_name = next(iter(api.client.cookies.keys()))
    _fuzz_http(api, logged_errors, _routes(api, ("/console",)), cookie_name, csrf)


@pytest.mark.parametrize("path", ["/api/v1/public/webform", "/api/v1/cases"])
def test_json_endpoints_refuse_undecodable_bodies_with_a_400(
    api: Api, logged_errors: list[logging.LogRecord], path: str
) -> None:
    """The two 500s of the review: nested too deeply, and not UTF-8."""
    for body in (b"[" * 5000 + b"]" * 5000, b'{"name": "\xff\xfe"}', b'{"subject": "a\xc3"}'):
        response = api.post(path, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text
        problem = response.json()
        assert problem["code"] == "invalid_request"
        assert problem["errors"][0]["source"] == "body"
    _no_errors(logged_errors, path)


@pytest.mark.parametrize(
    "rating",
    [
        "١٢٣",
        "²",
        "9" * 5000,
    ],
)
def test_a_survey_rating_with_odd_digits_is_refused_not_a_500(
    api: Api, logged_errors: list[logging.LogRecord], rating: str
) -> None:
    """``str.isdigit()`` is true for these, and ``int()`` fails on two of them."""
    customer = new_customer(api)
    case = case_of(api, customer)
    sign_in(api, customer)
    page = api.client.get(f"/support/requests/{case.id}")
    found = CSRF.search(page.text)
    assert found
    form = {"rating": rating, "comment": "", "_csrf": found.group(1)}
    signed_in = api.client.post(f"/support/requests/{case.id}/survey", data=form)
    link = api.client.post(f"/support/survey/{'a' * 40}", data=form)
    assert (signed_in.status_code < 500, link.status_code < 500) == (True, True)
    _no_errors(logged_errors, f"rating {rating[:10]!r}")


@pytest.mark.parametrize(
    "confirm",
    [
        "1,2",
        "a,b",
        "²,1",
        "9" * 5000 + ",1",
    ],
)
def test_a_merge_confirmation_with_odd_digits_is_refused_not_a_500(
    api: Api, logged_errors: list[logging.LogRecord], confirm: str
) -> None:
    source, target = api.make_case(api.team_a), api.make_case(api.team_a)
    csrf = console_sign_in(api, "admin")
    form = {"target": str(target.id), "confirm_customers": confirm, "_csrf": csrf}
    response = api.client.post(
        f"/console/cases/{source.id}/merge", data=form, follow_redirects=False
    )
    assert response.status_code < 500, response.text[:300]
    _no_errors(logged_errors, f"confirm {confirm[:10]!r}")


# --- websockets ------------------------------------------------------------------------

SENTINEL = "zz-sentinel"
OPS = ["subscribe", "unsubscribe", "presence", "ping", "pong", "hello", "start", "request",
       "say", "typing", "transcript", SENTINEL, None, 1, ["say"]]  # fmt: skip
wrong_types = st.one_of(json_values, st.sampled_from([2**63, -(2**70), 1.5, "١٢٣", "²"]))


KINDS = ("op", "op", "op", "json", "text", "bytes", "huge", "nested")
KEYS = ("stream", "after", "case_id", "state", "token", "team", "lang", "name", "email",
        "message", "text", "id")  # fmt: skip


@st.composite
def frames(
    draw: st.DrawFn, kinds: tuple[str, ...] = KINDS, keys: tuple[str, ...] = KEYS
) -> tuple[str, Any]:
    """One frame: ("json", value), ("text", str) or ("bytes", bytes)."""
    kind = draw(st.sampled_from(kinds))
    if kind == "op":
        fields = draw(st.dictionaries(st.sampled_from(keys), wrong_types, max_size=5))
        return "json", {"op": draw(st.sampled_from(OPS)), **fields}
    if kind == "json":
        return "json", draw(json_values)
    if kind == "text":
        return "text", draw(texts)
    if kind == "bytes":
        return "bytes", draw(st.binary(max_size=50))
    if kind == "huge":
        return "text", json.dumps({"op": "say", "text": "x" * 1_100_000})
    return "text", "[" * 5000 + "]" * 5000


def _send_frame(socket: Any, frame: tuple[str, Any]) -> None:
    kind, value = frame
    if kind == "json":
        socket.send_text(json.dumps(value))
    elif kind == "text":
        socket.send_text(value)
    else:
        socket.send_bytes(value)


def _until_sentinel(socket: Any) -> list[dict[str, Any]]:
    """Send the sentinel request; the frames received up to its error frame."""
    socket.send_text(json.dumps({"op": SENTINEL}))
    seen: list[dict[str, Any]] = []
    for _ in range(200):
        try:
            message = socket.receive_json(timeout=10)
        except queue.Empty:
            raise AssertionError(f"the socket went silent after {seen[-5:]}") from None
        seen.append(message)
        if message.get("type") == "error" and SENTINEL in str(message):
            return seen
    raise AssertionError(f"no answer to the sentinel: {seen[-5:]}")


def _fuzz_socket(
    api: Api,
    logged: list[logging.LogRecord],
    connect: Any,
    first: str | None,
    keys: tuple[str, ...] = KEYS,
) -> None:
    state: dict[str, Any] = {}

    def socket() -> Any:
        if "socket" not in state:
            state["cm"] = connect()
            state["socket"] = state["cm"].__enter__()
            if first is not None:
                assert state["socket"].receive_json()["type"] == first
        return state["socket"]

    def drop() -> None:
        cm = state.pop("cm", None)
        state.pop("socket", None)
        if cm is not None:
            with contextlib.suppress(WebSocketDisconnect):
                cm.__exit__(None, None, None)

    kinds = KINDS

    @SOCKET_FUZZ
    @given(sent=st.lists(frames(kinds, keys), min_size=1, max_size=3))
    def check(sent: list[tuple[str, Any]]) -> None:
        ws = socket()
        closed: int | None = None
        try:
            for frame in sent:
                _send_frame(ws, frame)
            seen = _until_sentinel(ws)
        except WebSocketDisconnect as exc:
            drop()
            closed, seen = exc.code, []
        assert closed not in (1011, 1006), (sent, closed)
        errors = [m for m in seen if m.get("type") == "error"]
        assert all(m.get("code") != "server_error" for m in errors), (sent, errors)
        assert all(isinstance(m.get("code"), str) and m["code"] for m in errors), errors
        _no_errors(logged, str(sent)[:300])

    try:
        check()
    finally:
        drop()


def test_no_console_socket_message_gets_a_server_error(
    api: Api, logged_errors: list[logging.LogRecord]
) -> None:
    console_sign_in(api, "agent_a")
    cookie = "; ".join(f"{k}={v}" for k, v in api.client.cookies.items())

    def connect() -> Any:
        return api.client.websocket_connect("/console/ws", headers={"cookie": cookie})

    _fuzz_socket(api, logged_errors, connect, "hello")


def test_no_portal_socket_message_gets_a_server_error(
    api: Api, logged_errors: list[logging.LogRecord]
) -> None:
    cookie = sign_in(api, new_customer(api))

    def connect() -> Any:
        return api.client.websocket_connect("/support/ws", headers={"cookie": cookie})

    _fuzz_socket(api, logged_errors, connect, "hello")


def test_no_chat_socket_message_gets_a_server_error(
    api: Api, logged_errors: list[logging.LogRecord]
) -> None:
    def connect() -> Any:
        return api.client.websocket_connect("/chat/ws")

    _fuzz_socket(api, logged_errors, connect, None, KEYS)


# --- frames every socket once failed on (found by the fuzzers) ------------------------

BAD_FRAMES = {
    "not-json": ("text", "not json"),
    "binary": ("bytes", b"\xff\x00{"),
    "nested": ("text", "[" * 5000 + "]" * 5000),
}


def _socket_of(api: Api, face: str) -> tuple[Any, str | None]:
    if face == "console":
        console_sign_in(api, "agent_a")
        cookie = "; ".join(f"{k}={v}" for k, v in api.client.cookies.items())
        return api.client.websocket_connect("/console/ws", headers={"cookie": cookie}), "hello"
    if face == "portal":
        cookie = sign_in(api, new_customer(api))
        return api.client.websocket_connect("/support/ws", headers={"cookie": cookie}), "hello"
    return api.client.websocket_connect("/chat/ws"), None


@pytest.mark.parametrize("frame", sorted(BAD_FRAMES))
@pytest.mark.parametrize("face", ["console", "portal", "chat"])
def test_an_undecodable_frame_gets_an_error_frame_and_the_socket_stays_open(
    api: Api, logged_errors: list[logging.LogRecord], face: str, frame: str
) -> None:
    connection, first = _socket_of(api, face)
    with connection as ws:
        if first is not None:
            assert ws.receive_json(timeout=5)["type"] == first
        _send_frame(ws, BAD_FRAMES[frame])
        ws.send_text(json.dumps({"op": SENTINEL}))
        answer = ws.receive_json(timeout=2)
        assert (answer["type"], answer["code"]) == ("error", "bad_message")
        assert SENTINEL in str(ws.receive_json(timeout=2))
    _no_errors(logged_errors, frame)


@pytest.mark.parametrize("team", ["99999999999999999999", 2**63])
def test_a_chat_hello_with_an_out_of_range_team_is_no_server_error(
    api: Api, logged_errors: list[logging.LogRecord], team: object
) -> None:
    with api.client.websocket_connect("/chat/ws") as ws:
        ws.send_text(json.dumps({"op": "hello", "team": team, "lang": "vi"}))
        answer = ws.receive_json(timeout=5)
        assert answer["type"] == "hello" or answer.get("code") != "server_error", answer
    _no_errors(logged_errors, f"team {team!r}")
