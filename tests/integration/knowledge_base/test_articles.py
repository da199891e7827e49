"""Articles: writing, versions, translations with fallback, who may do what (both engines)."""

from __future__ import annotations

import asyncio

import pytest

from helpdesk.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    VersionConflictError,
)
from helpdesk.policy import SYSTEM
from helpdesk.tables import AuditEntry
from knowledge_base import categories, services
from knowledge_base.schemas import (
    ArticleFilter,
    ArticleStatus,
    ArticleUpdate,
    CategoryIn,
    CategoryUpdate,
)
from knowledge_base.tables import KbArticleTag, KbTranslationGroup
from tests.factories import customer_principal, make_customer
from tests.integration.knowledge_base._support import article, staff

DRAFT = ArticleStatus.DRAFT
PUBLISHED = ArticleStatus.PUBLISHED


async def test_an_article_is_stored_with_safe_html_and_its_author(db):
    agent, _ = await staff()
    made = await article(
        agent,
        "Cách đổi mật khẩu",
        "# Đổi mật khẩu\n\nBấm **Quên mật khẩu**.<script>alert(1)</script>"
        '<img src="x" onerror="alert(2)">',
        status=DRAFT,
        tags=["Tai-Khoan", "tai-khoan", "login"],
    )
    assert made.status == DRAFT
    assert made.author_id == agent.id
    assert made.version == 1
    assert made.published_at is None
    assert made.tags == ["login", "tai-khoan"]
    assert "<h1>Đổi mật khẩu</h1>" in made.body_html
    assert "<strong>Quên mật khẩu</strong>" in made.body_html
    assert "script" not in made.body_html
    assert "alert" not in made.body_html
    assert "onerror" not in made.body_html
    assert made.body.endswith('<img src="x" onerror="alert(2)">')  # the source is kept as written
    tags = await KbArticleTag.select(KbArticleTag.tag).where(KbArticleTag.article == made.id)
    assert sorted(r["tag"] for r in tags) == ["login", "tai-khoan"]
    audit = await AuditEntry.select(AuditEntry.action).where(AuditEntry.entity == "kb_article")
    assert [r["action"] for r in audit] == ["kb_article.created"]


async def test_every_save_keeps_the_previous_title_and_body_as_a_version(db):
    agent, manager = await staff()
    made = await article(agent, "Bản nháp", "Nội dung 1", status=DRAFT)
    second = await services.update_article(
        agent, made.id, ArticleUpdate(version=1, title="Bản nháp 2", body="Nội dung 2")
    )
    assert (second.version, second.title, second.body_html) == (
        2,
        "Bản nháp 2",
        "<p>Nội dung 2</p>\n",
    )
    third = await services.update_article(manager, made.id, ArticleUpdate(version=2, tags=["x"]))
    assert third.version == 3
    assert third.updated_by_id == manager.id
    versions = await services.list_versions(agent, made.id)
    assert [(v.version, v.title, v.body, v.editor_id) for v in versions] == [
        (2, "Bản nháp 2", "Nội dung 2", agent.id),
        (1, "Bản nháp", "Nội dung 1", agent.id),
    ]
    # A save that changes nothing is not a new version.
    same = await services.update_article(
        manager, made.id, ArticleUpdate(version=3, title="Bản nháp 2")
    )
    assert same.version == 3
    assert len(await services.list_versions(agent, made.id)) == 2


async def test_a_stale_version_is_refused(db):
    agent, _ = await staff()
    made = await article(agent, "Một", status=DRAFT)
    await services.update_article(agent, made.id, ArticleUpdate(version=1, title="Hai"))
    with pytest.raises(VersionConflictError) as caught:
        await services.update_article(agent, made.id, ArticleUpdate(version=1, title="Ba"))
    assert caught.value.extra["current_version"] == 2
    assert (await services.get_article(agent, made.id)).title == "Hai"


async def test_translations_are_linked_and_reading_in_a_locale_falls_back(db):
    _, manager = await staff()
    vi = await article(manager, "Chính sách hoàn tiền", "Hoàn tiền trong 7 ngày.", tags=["refund"])
    en = await article(
        manager, "Refund policy", "Refunds within 7 days.", locale="en", translation_of=vi.id
    )
    assert en.group_id == vi.group_id
    assert en.tags == ["refund"]  # defaults from the article it translates
    assert [(t.id, t.locale) for t in en.translations] == [(vi.id, "vi")]

    in_english = await services.get_article(None, vi.id, "en")
    assert (in_english.id, in_english.locale, in_english.fallback) == (en.id, "en", False)
    assert [t.id for t in in_english.translations] == [vi.id]

    only_vi = await article(manager, "Giờ làm việc", "Từ 8 giờ đến 17 giờ.")
    fallback = await services.get_article(None, only_vi.id, "en")
    assert (fallback.id, fallback.locale, fallback.fallback) == (only_vi.id, "vi", True)

    with pytest.raises(ConflictError):
        await article(manager, "Lần nữa", locale="en", translation_of=vi.id)
    with pytest.raises(ValidationError):
        await article(manager, "Không có", locale="en", translation_of=9999)


async def test_a_draft_translation_is_not_a_translation_for_the_public(db):
    agent, manager = await staff()
    vi = await article(manager, "Đổi địa chỉ giao hàng", "Vào mục Đơn hàng.")
    en = await article(agent, "Change the address", locale="en", status=DRAFT, translation_of=vi.id)
    public = await services.read_public_article(vi.id, "en")
    assert (public.id, public.fallback, public.translations) == (vi.id, True, [])
    as_staff = await services.get_article(agent, vi.id, "en")
    assert as_staff.id == en.id


async def test_drafts_are_hidden_from_customers_and_the_public(db):
    agent, manager = await staff()
    draft = await article(agent, "Bản nháp bí mật", status=DRAFT)
    published = await article(manager, "Bài đã đăng")
    customer = await customer_principal((await make_customer()).id)
    for reader in (None, customer):
        with pytest.raises(NotFoundError):
            await services.get_article(reader, draft.id)
        assert [a.id for a in await services.list_articles(reader)] == [published.id]
    with pytest.raises(NotFoundError):
        await services.read_public_article(draft.id)
    assert (await services.read_public_article(published.id)).title == "Bài đã đăng"
    assert {a.id for a in await services.list_articles(agent)} == {draft.id, published.id}


async def test_agents_write_drafts_and_managers_publish(db):
    agent, manager = await staff()
    with pytest.raises(PermissionDeniedError):
        await article(agent, "Đăng luôn", status=PUBLISHED)
    draft = await article(agent, "Nháp", status=DRAFT)
    assert draft.status == DRAFT
    with pytest.raises(PermissionDeniedError):
        await services.update_article(agent, draft.id, ArticleUpdate(version=1, status=PUBLISHED))
    published = await services.update_article(
        manager, draft.id, ArticleUpdate(version=1, status=PUBLISHED)
    )
    assert published.status == PUBLISHED
    assert published.published_at is not None
    with pytest.raises(PermissionDeniedError):  # a published article is the managers' now
        await services.update_article(agent, draft.id, ArticleUpdate(version=2, title="Sửa"))
    with pytest.raises(PermissionDeniedError):
        await services.delete_article(agent, draft.id)
    customer = await customer_principal((await make_customer()).id)
    with pytest.raises(PermissionDeniedError):
        await article(customer, "Khách viết")


async def test_deleting_the_last_translation_removes_the_group(db):
    _, manager = await staff()
    vi = await article(manager, "Một")
    en = await article(manager, "One", locale="en", translation_of=vi.id)
    await services.update_article(manager, vi.id, ArticleUpdate(version=1, title="Một!"))
    await services.delete_article(manager, vi.id)
    assert (await services.get_article(manager, en.id)).translations == []
    assert await KbTranslationGroup.count() == 1
    await services.delete_article(manager, en.id)
    assert await KbTranslationGroup.count() == 0
    with pytest.raises(NotFoundError):
        await services.list_versions(manager, vi.id)


async def test_the_list_filters_by_status_locale_tag_and_category_tree(db):
    agent, manager = await staff()
    top = await categories.create_category(manager, CategoryIn(name_vi="Thanh toán"))
    child = await categories.create_category(
        manager, CategoryIn(name_vi="Hóa đơn", name_en="Invoices", parent_id=top.id)
    )
    other = await categories.create_category(manager, CategoryIn(name_vi="Khác"))
    a = await article(manager, "Xuất hóa đơn VAT", category_id=child.id, tags=["vat"])
    b = await article(agent, "Nháp thanh toán", status=DRAFT, category_id=top.id)
    c = await article(manager, "Payment", locale="en", category_id=other.id)

    async def ids(**filters: object) -> list[int]:
        found = await services.list_articles(agent, ArticleFilter(**filters))  # type: ignore[arg-type]
        return [x.id for x in found]

    assert await ids() == [a.id, b.id, c.id]
    assert await ids(category_id=top.id) == [a.id, b.id]
    assert await ids(category_id=child.id) == [a.id]
    assert await ids(status=DRAFT) == [b.id]
    assert await ids(locale="en") == [c.id]
    assert await ids(tag="VAT") == [a.id]
    page = await services.list_articles(agent, after_id=a.id, limit=1)
    assert [x.id for x in page] == [b.id]
    with pytest.raises(ValidationError):
        await article(manager, "Sai danh mục", category_id=9999)


async def test_categories_form_a_tree_without_cycles(db):
    _, manager = await staff()
    root = await categories.create_category(manager, CategoryIn(name_vi="Gốc", position=2))
    first = await categories.create_category(manager, CategoryIn(name_vi="Đầu", position=1))
    leaf = await categories.create_category(manager, CategoryIn(name_vi="Lá", parent_id=root.id))
    tree = await categories.list_categories(None)
    assert [(c.id, c.depth) for c in tree] == [(first.id, 0), (root.id, 0), (leaf.id, 1)]
    with pytest.raises(ValidationError):
        await categories.update_category(manager, root.id, CategoryUpdate(parent_id=leaf.id))
    with pytest.raises(ValidationError):
        await categories.update_category(manager, root.id, CategoryUpdate(parent_id=root.id))
    moved = await categories.update_category(manager, leaf.id, CategoryUpdate(parent_id=None))
    assert (moved.parent_id, moved.depth) == (None, 0)
    await article(manager, "Trong lá", category_id=leaf.id)
    with pytest.raises(ConflictError):
        await categories.delete_category(manager, leaf.id)
    await categories.update_category(manager, leaf.id, CategoryUpdate(parent_id=root.id))
    with pytest.raises(ConflictError):
        await categories.delete_category(manager, root.id)
    await categories.delete_category(manager, first.id)
    with pytest.raises(NotFoundError):
        await categories.get_category(SYSTEM, first.id)


async def test_two_concurrent_saves_of_one_version_one_wins(db):
    agent, manager = await staff()
    made = await article(agent, "Cùng lúc", status=DRAFT)

    async def save(who, title):
        try:
            return await services.update_article(
                who, made.id, ArticleUpdate(version=1, title=title)
            )
        except VersionConflictError:
            return None

    results = await asyncio.gather(save(agent, "A"), save(manager, "B"))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0].version == 2
    versions = await services.list_versions(agent, made.id)
    assert [(v.version, v.title) for v in versions] == [(1, "Cùng lúc")]
