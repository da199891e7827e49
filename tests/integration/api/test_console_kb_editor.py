"""The knowledge-base editor of the console, through the real app on both engines.

A manager writes, previews, publishes, edits, restores, translates, unpublishes
and deletes an article, and the portal shows each step; a refused form says why
beside each field, in Vietnamese and in English; an agent writes drafts and a
manager publishes, as :mod:`helpdesk.policy` says.
"""

from __future__ import annotations

import html
import re

from httpx import Response

from helpdesk.policy import SYSTEM
from knowledge_base import services
from knowledge_base.schemas import ArticleIn, ArticleStatus
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in

ARTICLES = "/console/kb/articles"
EVIL = (
    "**đậm** <script>alert('x')</script> [bấm vào đây](javascript:alert(1)) "
    '<a href="javascript:alert(2)" onclick="x()">b</a>'
)


def post(api: Api, url: str, token: str, **data: str) -> Response:
    return api.client.post(url, data={**data, "_csrf": token}, follow_redirects=False)


def section(page: str, marker: str) -> str:
    """The HTML of the element whose opening tag carries ``marker``, up to its section end."""
    start = page.index(marker)
    return page[start : page.index("</section>", start)]


def created_id(response: Response) -> int:
    assert response.status_code == 303, response.text[:800]
    match = re.fullmatch(rf"{ARTICLES}/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def field_error(page: str, field: str) -> str:
    match = re.search(rf'data-error-for="{field}">([^<]*)<', page)
    assert match, f"no message beside {field}"
    return html.unescape(match.group(1))


def test_a_manager_writes_publishes_edits_restores_translates_and_deletes(api: Api) -> None:
    token = console_sign_in(api, "manager")
    assert (
        post(
            api, "/console/kb/categories", token, name_vi="Hóa đơn", name_en="Invoices"
        ).status_code
        == 303
    )
    category = str(api.run(_first_category_id))

    # Preview: rendered by the portal's renderer, sanitised, nothing saved
    shown = post(
        api, ARTICLES, token, intent="preview", title="Xuất hóa đơn", body=EVIL, locale="vi"
    )
    assert shown.status_code == 200
    preview = section(shown.text, 'id="kb-preview"')
    assert "<strong>đậm</strong>" in preview
    assert "<script" not in preview
    assert "alert('x')" not in preview
    assert not re.search(r"href=\S*javascript", preview, re.I)
    assert "onclick" not in preview
    assert '<a rel="noopener noreferrer">b</a>' in preview  # the link stays, without its target
    assert "&lt;script&gt;" in shown.text  # the source stays in the textarea, escaped
    assert api.run(services.list_articles, SYSTEM) == []

    # Create a draft: not on the portal yet
    form = {
        "title": "Xuất hóa đơn điện tử",
        "body": "Bước **một**.",
        "locale": "vi",
        "status": "draft",
        "category": category,
        "tags": "hoa-don, thue",
    }
    article_id = created_id(post(api, ARTICLES, token, **form))
    assert api.client.get(f"/support/kb/articles/{article_id}").status_code == 404

    # Publish in one click: the portal shows it
    assert post(api, f"{ARTICLES}/{article_id}/publish", token, version="1").status_code == 303
    public = api.client.get(f"/support/kb/articles/{article_id}")
    assert public.status_code == 200
    assert "Bước <strong>một</strong>." in public.text
    assert "Xuất hóa đơn điện tử" in api.client.get("/support/kb/").text

    # The list: status, language, category, last updated as dd/mm/yyyy HH:MM
    listed = api.client.get(ARTICLES, params={"status": "published", "category": category})
    row = listed.text[listed.text.index(f'data-article="{article_id}"') :]
    assert "Đã xuất bản" in row[:2000]
    assert "Hóa đơn" in row[:2000]
    assert "Tiếng Việt" in row[:2000]
    assert re.search(r"<td>\d\d/\d\d/\d{4} \d\d:\d\d</td>", row[:2000])
    assert (
        f'data-article="{article_id}"'
        not in api.client.get(ARTICLES, params={"status": "draft"}).text
    )
    found = api.client.get(ARTICLES, params={"q": "hoa don"}).text
    assert f'data-article="{article_id}"' in found
    assert "<mark>" in found

    # Edit (version 2 → 3); a second save of version 2 is a conflict that keeps the text
    edit = {**form, "version": "2", "body": "Bước **hai**."}
    assert post(api, f"{ARTICLES}/{article_id}", token, **edit).status_code == 303
    stale = post(api, f"{ARTICLES}/{article_id}", token, **{**edit, "body": "Bản của tôi"})
    assert stale.status_code == 409
    assert "Bản của tôi</textarea>" in stale.text
    assert 'data-theirs-version="3"' in stale.text
    assert "Bước <strong>hai</strong>." in stale.text
    assert 'name="version" value="3"' in stale.text

    # History: who and when; an old version; restore it as a new version
    history = api.client.get(f"{ARTICLES}/{article_id}/history").text
    assert 'data-version="2"' in history
    assert 'data-version="1"' in history
    assert "Manager" in history
    old = api.client.get(f"{ARTICLES}/{article_id}/history/2")
    assert old.status_code == 200
    assert "Bước <strong>một</strong>." in old.text
    restored = post(api, f"{ARTICLES}/{article_id}/history/2/restore", token, version="3")
    assert restored.status_code == 303
    article = api.run(services.get_article, SYSTEM, article_id)
    assert (article.version, article.body) == (4, "Bước **một**.")
    assert [v.version for v in api.run(services.list_versions, SYSTEM, article_id)] == [3, 2, 1]
    assert "Bước <strong>một</strong>." in api.client.get(f"/support/kb/articles/{article_id}").text
    stale_restore = post(api, f"{ARTICLES}/{article_id}/history/1/restore", token, version="3")
    assert stale_restore.status_code == 409
    assert "Người khác vừa lưu bài viết này" in stale_restore.text

    # Translate: the original beside the form, pre-filled, the other language chosen
    new = api.client.get(f"{ARTICLES}/new", params={"translation_of": str(article_id)}).text
    assert f'data-original="{article_id}"' in new
    assert "Bước <strong>một</strong>." in new
    assert '<option value="en" selected>' in new
    en_form = {
        "title": "Issuing e-invoices",
        "body": "Step **one**.",
        "locale": "en",
        "category": category,
        "tags": "invoice",
        "translation_of": str(article_id),
    }
    en_id = created_id(post(api, ARTICLES, token, **en_form))
    vi = api.run(services.get_article, SYSTEM, article_id)
    assert [(t.id, t.locale) for t in vi.translations] == [(en_id, "en")]
    assert 'data-translation="en"' in api.client.get(f"{ARTICLES}/{article_id}").text
    again = post(api, ARTICLES, token, **en_form)
    assert again.status_code == 409
    assert field_error(again.text, "locale") == "Bài viết này đã có bản dịch sang ngôn ngữ này."

    # Unpublish asks first; then the portal no longer shows it
    asked = post(api, f"{ARTICLES}/{article_id}/unpublish", token, version="4")
    assert asked.status_code == 200
    assert "Xuất hóa đơn điện tử" in asked.text
    assert api.client.get(f"/support/kb/articles/{article_id}").status_code == 200
    done = post(api, f"{ARTICLES}/{article_id}/unpublish", token, version="4", confirm="yes")
    assert done.status_code == 303
    assert api.client.get(f"/support/kb/articles/{article_id}").status_code == 404

    # Deleting the category asks and explains: it still holds the articles
    blocked = post(api, f"/console/kb/categories/{category}/delete", token, confirm="yes")
    assert blocked.status_code == 200
    assert "data-blocked" in blocked.text
    assert "Xuất hóa đơn điện tử" in blocked.text

    # Delete names the translation that stays
    confirm = post(api, f"{ARTICLES}/{article_id}/delete", token)
    assert confirm.status_code == 200
    assert "Issuing e-invoices" in section(confirm.text, "data-confirm")
    assert post(api, f"{ARTICLES}/{article_id}/delete", token, confirm="yes").status_code == 303
    assert api.client.get(f"{ARTICLES}/{article_id}").status_code == 404
    assert api.run(services.get_article, SYSTEM, en_id).translations == []


async def _first_category_id() -> int:
    from knowledge_base import categories

    return (await categories.list_categories(SYSTEM))[0].id


def test_refused_fields_are_explained_beside_them_in_vietnamese_and_english(api: Api) -> None:
    token = console_sign_in(api, "agent_a")
    bad = {"title": "  ", "body": "x", "locale": "vi", "tags": "a" * 70, "category": "abc"}
    vi = post(api, ARTICLES, token, **bad)
    assert vi.status_code == 422
    assert field_error(vi.text, "title") == "Vui lòng điền trường này."
    assert field_error(vi.text, "tags") == "Nhãn là các từ đơn, cách nhau bằng dấu phẩy."
    assert field_error(vi.text, "category") == "Nhập một số nguyên."
    assert 'aria-invalid="true"' in vi.text
    assert "a" * 70 in vi.text

    en = post(api, f"{ARTICLES}?lang=en", token, **bad)
    assert en.status_code == 422
    assert field_error(en.text, "title") == "This field is required."
    assert field_error(en.text, "tags") == "Tags are single words separated by commas."

    gone = post(api, f"{ARTICLES}?lang=en", token, title="Tiêu đề", locale="vi", category="99999")
    assert gone.status_code == 422
    assert field_error(gone.text, "category") == "This category does not exist any more."
    long = post(api, f"{ARTICLES}?lang=vi", token, title="t" * 301, locale="vi")
    assert field_error(long.text, "title") == "Dùng tối đa 300 ký tự."
    # odd input is a form error or cleaned, never a 500 (NUL cannot be stored by PostgreSQL)
    made = created_id(post(api, ARTICLES, token, title="Tiêu\x00 đề", body="a\x00b", locale="vi"))
    assert api.run(services.get_article, SYSTEM, made).title == "Tiêu đề"
    assert (
        api.client.get(ARTICLES, params={"q": "ti\x00eu", "category": "9" * 30}).status_code == 200
    )
    odd = post(api, f"{ARTICLES}/{made}", token, version="abc", title="x")
    assert odd.status_code == 422
    assert "data-form-error" in odd.text
    # a category form too
    cat = post(api, "/console/kb/categories?lang=en", token, name_vi="x")
    assert cat.status_code == 403  # agents do not manage categories (the policy)
    manager = console_sign_in(api, "manager")
    cat = post(api, "/console/kb/categories", manager, name_vi="", position="-1")
    assert cat.status_code == 422
    assert field_error(cat.text, "name_vi") == "Vui lòng điền trường này."
    assert field_error(cat.text, "position") == "Nhập một số không nhỏ hơn 0."


def test_agents_write_drafts_and_managers_publish_as_the_policy_says(api: Api) -> None:
    token = console_sign_in(api, "agent_a")
    page = api.client.get(ARTICLES)
    assert page.status_code == 200
    assert 'href="/console/kb/articles"' in page.text
    draft = created_id(
        post(api, ARTICLES, token, title="Đổi mật khẩu", body="Bấm *Quên*.", locale="vi")
    )
    editor = api.client.get(f"{ARTICLES}/{draft}").text
    assert 'data-action="publish"' not in editor
    assert 'data-action="delete"' not in editor
    assert 'name="status"' not in api.client.get(f"{ARTICLES}/new").text
    # agents may not publish, unpublish, delete, or manage categories
    assert (
        post(api, ARTICLES, token, title="Công khai", locale="vi", status="published").status_code
        == 403
    )
    assert post(api, f"{ARTICLES}/{draft}/publish", token, version="1").status_code == 403
    assert post(api, f"{ARTICLES}/{draft}/delete", token, confirm="yes").status_code == 403
    categories = api.client.get("/console/kb/categories")
    assert categories.status_code == 200
    assert "data-new-category" not in categories.text
    # but edit their drafts and restore them
    saved = post(api, f"{ARTICLES}/{draft}", token, version="1", title="Đổi mật khẩu", body="Mới")
    assert saved.status_code == 303
    assert post(api, f"{ARTICLES}/{draft}/history/1/restore", token, version="2").status_code == 303

    published = api.run(
        services.create_article,
        SYSTEM,
        ArticleIn(title="Đã duyệt", body="x", status=ArticleStatus.PUBLISHED),
    )
    assert (
        post(api, f"{ARTICLES}/{published.id}", token, version="1", title="Sửa").status_code == 403
    )
    assert "Only managers" in api.client.get(f"{ARTICLES}/{published.id}?lang=en").text

    # a manager publishes the agent's draft, in one click
    manager = console_sign_in(api, "manager")
    assert post(api, f"{ARTICLES}/{draft}/publish", manager, version="3").status_code == 303
    assert api.client.get(f"/support/kb/articles/{draft}").status_code == 200
    # anonymous visitors are sent to sign in
    console_sign_in(api, "anonymous")
    assert api.client.get(ARTICLES, follow_redirects=False).status_code == 302
