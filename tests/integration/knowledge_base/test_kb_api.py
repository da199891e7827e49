"""The knowledge-base API as staff and the portal use it (both engines)."""

from __future__ import annotations

import pytest

from knowledge_base import controllers
from tests.integration.api.conftest import Api

PROBLEM = "application/problem+json"


def _article(api: Api, role: str = "manager", **fields: object) -> dict:
    body = {"title": "Cách đổi mật khẩu", "body": "Bấm **Quên mật khẩu**.", **fields}
    response = api.post("/api/v1/kb/articles", role=role, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_staff_write_review_and_publish_an_article(api: Api) -> None:
    category = api.post("/api/v1/kb/categories", role="manager", json={"name_vi": "Tài khoản"})
    assert category.status_code == 201, category.text
    category_id = category.json()["id"]

    draft = _article(
        api, "agent_a", category_id=category_id, tags=["login"], body="Bấm <script>x()</script>"
    )
    assert (draft["status"], draft["version"], draft["author_id"]) == (
        "draft",
        1,
        api.agent_ids["agent_a"],
    )
    assert "script" not in draft["body_html"]
    url = f"/api/v1/kb/articles/{draft['id']}"

    edited = api.patch(url, role="agent_b", json={"version": 1, "body": "Bấm **Quên mật khẩu**."})
    assert edited.status_code == 200, edited.text
    assert edited.json()["body_html"] == "<p>Bấm <strong>Quên mật khẩu</strong>.</p>\n"

    stale = api.patch(url, role="agent_a", json={"version": 1, "title": "Cũ"})
    assert stale.status_code == 409
    assert stale.headers["content-type"] == PROBLEM
    assert (stale.json()["code"], stale.json()["current_version"]) == ("version_conflict", 2)

    publish = {"version": 2, "status": "published"}
    refused = api.patch(url, role="agent_a", json=publish)
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    published = api.patch(url, role="manager", json=publish)
    assert published.json()["status"] == "published"

    versions = api.get(f"{url}/versions", role="agent_a").json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["body"] == "Bấm <script>x()</script>"

    listed = api.get("/api/v1/kb/articles", role="agent_a", params={"category_id": category_id})
    assert [a["id"] for a in listed.json()] == [draft["id"]]

    public = api.client.get(f"/api/v1/public/kb/articles/{draft['id']}")
    assert public.status_code == 200
    assert set(public.json()) == {
        "id", "group_id", "locale", "title", "body_html", "category_id", "tags",
        "updated_at", "published_at", "translations", "fallback",
    }  # fmt: skip

    assert api.request("agent_a", "DELETE", url).status_code == 403
    assert api.request("manager", "DELETE", url).status_code == 204
    assert api.get(url).status_code == 404


def test_translations_through_the_api(api: Api) -> None:
    vi = _article(api, title="Chính sách hoàn tiền", status="published")
    en = _article(
        api, title="Refund policy", locale="en", status="published", translation_of=vi["id"]
    )
    assert en["group_id"] == vi["group_id"]
    again = api.post(
        "/api/v1/kb/articles", json={"title": "x", "locale": "en", "translation_of": vi["id"]}
    )
    assert (again.status_code, again.json()["code"]) == (409, "conflict")

    english = api.client.get(f"/api/v1/public/kb/articles/{vi['id']}", params={"locale": "en"})
    assert (english.json()["id"], english.json()["fallback"]) == (en["id"], False)
    alone = _article(api, title="Giờ làm việc", status="published")
    fallback = api.get(f"/api/v1/kb/articles/{alone['id']}", params={"locale": "en"}).json()
    assert (fallback["locale"], fallback["fallback"]) == ("vi", True)


def test_search_for_staff_and_for_the_portal(api: Api) -> None:
    _article(
        api,
        title="Kiểm tra đơn hàng",
        body="Khách hàng xem **đơn hàng** ở đây.",
        status="published",
    )
    draft = _article(api, "agent_a", title="Đơn hàng nháp", body="Chưa đăng.")

    staff = api.get("/api/v1/kb/search", role="agent_b", params={"q": "DON HANG"}).json()
    assert [hit["title"] for hit in staff["items"]] == ["Đơn hàng nháp", "Kiểm tra đơn hàng"]
    assert staff["items"][0]["title_html"] == "<mark>Đơn</mark> <mark>hàng</mark> nháp"
    assert staff["total"] == 2

    public = api.client.get("/api/v1/public/kb/search", params={"q": "don hang", "locale": "vi"})
    assert public.status_code == 200
    hits = public.json()["items"]
    assert [hit["title"] for hit in hits] == ["Kiểm tra đơn hàng"]
    assert "<mark>đơn</mark> <mark>hàng</mark>" in hits[0]["snippet_html"]
    assert api.client.get(f"/api/v1/public/kb/articles/{draft['id']}").status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "x" * 201},
        {"q": "a", "limit": 0},
        {"q": "a", "limit": 51},
        {"q": "a", "offset": -1},
        {"q": "a", "locale": "fr"},
        {"q": "a", "category_id": 0},
        {"q": "a", "status": "archived"},
    ],
)
def test_bad_search_parameters_are_400(api: Api, params: dict) -> None:
    response = api.get("/api/v1/kb/search", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_request"


def test_bad_bodies_are_400_and_refusals_422(api: Api) -> None:
    for body in ({"title": ""}, {"title": "x", "locale": "fr"}, {"title": "x", "bogus": 1}):
        assert api.post("/api/v1/kb/articles", json=body).status_code == 400
    missing = api.post("/api/v1/kb/articles", json={"title": "x", "category_id": 4242})
    assert (missing.status_code, missing.json()["code"]) == (422, "validation_error")
    root = api.post("/api/v1/kb/categories", json={"name_vi": "Gốc"}).json()
    child = api.post("/api/v1/kb/categories", json={"name_vi": "Con", "parent_id": root["id"]})
    cycle = api.patch(f"/api/v1/kb/categories/{root['id']}", json={"parent_id": child.json()["id"]})
    assert (cycle.status_code, cycle.json()["code"]) == (422, "validation_error")
    busy = api.request("admin", "DELETE", f"/api/v1/kb/categories/{root['id']}")
    assert (busy.status_code, busy.json()["code"]) == (409, "conflict")


def test_public_search_is_rate_limited_per_address(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(controllers, "PUBLIC_SEARCHES_PER_MINUTE", 3)
    statuses = [
        api.client.get("/api/v1/public/kb/search", params={"q": "x"}).status_code for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]
    # Staff search is not limited by it.
    assert api.get("/api/v1/kb/search", params={"q": "x"}).status_code == 200


def test_the_schema_documents_the_knowledge_base(api: Api) -> None:
    paths = api.client.get("/schema/openapi.json").json()["paths"]
    assert paths["/api/v1/kb/search"]["get"]["security"] == [{"bearerToken": []}]
    public = paths["/api/v1/public/kb/search"]["get"]
    assert public.get("security", []) == []
    assert "429" in public["responses"]
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/kb/articles/{article_id}"])


@pytest.mark.parametrize(
    "url", ["/api/v1/kb/articles", "/api/v1/kb/search?q=khach", "/api/v1/kb/categories"]
)
def test_list_and_search_cost_the_same_queries_whatever_the_rows(api: Api, url: str) -> None:
    def cost() -> int:
        api.get(url, role="agent_a")  # warm the token cache
        with api.count_queries() as queries:
            assert api.get(url, role="agent_a").status_code == 200
        return len(queries)

    _article(api, title="Khách hàng 0", status="published", tags=["a", "b"])
    small = cost()
    for n in range(1, 8):
        _article(api, title=f"Khách hàng {n}", status="published", tags=["a", "b"])
        api.post("/api/v1/kb/categories", json={"name_vi": f"Danh mục {n}"})
    assert cost() == small
