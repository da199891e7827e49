"""Objects for the console permission matrix's knowledge-base editor rows."""

from __future__ import annotations

import itertools
from typing import Any

from helpdesk.policy import SYSTEM
from knowledge_base import categories, services
from knowledge_base.schemas import ArticleIn, ArticleUpdate, CategoryIn
from tests.integration.api.conftest import Api

_seq = itertools.count(1)


def new_article(api: Api) -> dict[str, Any]:
    """A draft saved twice (version 2), so that version 1 is in its history."""
    made = api.run(services.create_article, SYSTEM, ArticleIn(title=f"Bài {next(_seq)}"))
    api.run(services.update_article, SYSTEM, made.id, ArticleUpdate(version=1, body="Sửa"))
    return {"article": made.id}


def new_category(api: Api) -> dict[str, Any]:
    """An empty category."""
    made = api.run(categories.create_category, SYSTEM, CategoryIn(name_vi=f"Mục {next(_seq)}"))
    return {"category": made.id}
