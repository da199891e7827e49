"""Fixtures of the domain-service tests: query counting and outbox/row readers."""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk.db import current_engine


class QueryCounter:
    """Counts the SQL statements the bound engine runs (DDL excluded)."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.active = False

    @property
    def count(self) -> int:
        return len(self.statements)

    def __enter__(self) -> QueryCounter:
        self.statements.clear()
        self.active = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.active = False


@pytest.fixture
def count_queries(db: Any, monkeypatch: pytest.MonkeyPatch) -> QueryCounter:
    """Wrap ``run_querystring`` of the bound engine; count inside ``with counter:``."""
    engine = current_engine()
    original = engine.run_querystring
    counter = QueryCounter()

    async def counting(querystring: Any, *args: Any, **kwargs: Any) -> Any:
        if counter.active:
            counter.statements.append(str(querystring))
        return await original(querystring, *args, **kwargs)

    monkeypatch.setattr(engine, "run_querystring", counting)
    return counter
