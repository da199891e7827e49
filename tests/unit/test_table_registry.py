"""The table registry: every package registers its own tables, the composition
module (:mod:`helpdesk.installed`) lists the packages, and ``all_tables()``
never answers with a package left out."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from piccolo.columns import ForeignKey, Serial
from piccolo.table import Table

import helpdesk.installed
from helpdesk.tables import TableRegistry, all_tables

ROOT = Path(__file__).resolve().parents[2]
OUR_PACKAGES = ("helpdesk", "knowledge_base", "portal", "agent_console")


def defined_tables() -> set[tuple[str, str]]:
    """(module, class) of every Piccolo table class written in our packages
    (migrations excluded: they keep frozen copies of old tables)."""
    found: set[tuple[str, str]] = set()
    for package in OUR_PACKAGES:
        for path in ROOT.joinpath(package).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if relative.parts[:2] == ("helpdesk", "migrations"):
                continue
            module = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.ClassDef) and any(
                    isinstance(base, ast.Name) and base.id == "Table" for base in node.bases
                ):
                    found.add((module, node.name))
    return found


def test_every_table_of_every_package_is_registered_once() -> None:
    tables = all_tables()
    registered = [(t.__module__, t.__name__) for t in tables]
    assert len(registered) == len(set(registered))
    assert set(registered) == defined_tables()
    assert {t.__module__ for t in tables} == {m.__name__ for m in helpdesk.installed.TABLE_MODULES}


def test_a_table_comes_after_the_tables_it_refers_to() -> None:
    seen: set[type[Table]] = set()
    for table in all_tables():
        for column in table._meta.foreign_key_columns:
            target = column._foreign_key_meta.resolved_references
            assert target is table or target in seen, (table, target)
        seen.add(table)


class _Alpha(Table, tablename="registry_test_alpha"):
    id = Serial(primary_key=True)


class _Beta(Table, tablename="registry_test_beta"):
    id = Serial(primary_key=True)
    alpha = ForeignKey(_Alpha)


def test_the_registry_keeps_the_order_of_registration() -> None:
    registry = TableRegistry()
    registry.register(_Alpha)
    registry.register(_Beta, _Alpha)
    registry.expect(__name__)
    assert registry.tables() == (_Alpha, _Beta)


def test_the_registry_refuses_to_answer_without_the_composition() -> None:
    registry = TableRegistry()
    registry.register(_Alpha)
    with pytest.raises(RuntimeError, match=r"import helpdesk\.installed"):
        registry.tables()


def test_a_declared_module_that_registered_nothing_is_an_error() -> None:
    registry = TableRegistry()
    registry.register(_Alpha)
    registry.expect(__name__, "helpdesk.forgotten.tables")
    with pytest.raises(
        RuntimeError, match=r"registered nothing: \['helpdesk\.forgotten\.tables'\]"
    ):
        registry.tables()


def test_tables_of_a_module_not_declared_are_an_error() -> None:
    registry = TableRegistry()
    registry.register(_Alpha)
    registry.expect("helpdesk.tables")
    with pytest.raises(RuntimeError, match="registered but not declared"):
        registry.tables()
