"""The layer rules, as checks that fail the build.

Private modules (``_name.py``) of a package are imported only by that package
(and its sub-packages): a helper that others need belongs in a public module.

Domain code (everything under ``helpdesk/`` and ``knowledge_base/`` that is
not the web layer) never imports the web framework, the web faces or the
web layer's own modules; imports inside functions count too. The web layer
is ``helpdesk/api/``, ``helpdesk/web/`` (the web kit), ``helpdesk/app.py``,
``helpdesk/cli/`` (the composition root) and ``knowledge_base/controllers.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB_LAYER = (
    "helpdesk/api/",
    "helpdesk/web/",
    "helpdesk/app.py",
    "helpdesk/cli/",
    "knowledge_base/controllers.py",
)
FORBIDDEN = (
    "litestar",
    "agent_console",
    "portal",
    "helpdesk.api",
    "helpdesk.web",
    "helpdesk.app",
    "helpdesk.cli",
    "knowledge_base.controllers",
)


def domain_modules() -> list[Path]:
    """Every Python file of the domain packages."""
    files = sorted(
        [*ROOT.joinpath("helpdesk").rglob("*.py"), *ROOT.joinpath("knowledge_base").rglob("*.py")]
    )
    return [f for f in files if not f.relative_to(ROOT).as_posix().startswith(WEB_LAYER)]


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in ``path``, at any depth."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


OUR_PACKAGES = ("helpdesk", "knowledge_base", "portal", "agent_console")


def all_modules() -> list[Path]:
    """Every Python file of our packages."""
    return sorted(f for name in OUR_PACKAGES for f in ROOT.joinpath(name).rglob("*.py"))


def foreign_private_import(path: Path, module: str) -> bool:
    """True when ``module`` is a private module of a package other than ``path``'s own."""
    parts = module.split(".")
    if parts[0] not in OUR_PACKAGES:
        return False
    private = next(
        (i for i, part in enumerate(parts) if part.startswith("_") and not part.startswith("__")),
        None,
    )
    if private is None:
        return False
    owner = parts[:private]
    importer = list(path.relative_to(ROOT).with_suffix("").parts[:-1])
    return importer[: len(owner)] != owner


def breaks_the_rule(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in FORBIDDEN)


def test_the_check_sees_the_domain_and_knows_a_violation() -> None:
    modules = {p.relative_to(ROOT).as_posix() for p in domain_modules()}
    assert {"helpdesk/services/cases.py", "helpdesk/jobs.py", "knowledge_base/search.py"} <= modules
    assert not modules & {"helpdesk/app.py", "helpdesk/api/cases.py"}
    assert breaks_the_rule("litestar.datastructures")
    assert breaks_the_rule("portal")
    assert not breaks_the_rule("portable")


@pytest.mark.parametrize("path", domain_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_domain_code_never_imports_the_web_layer(path: Path) -> None:
    wrong = [
        f"line {line}: {module}"
        for line, module in imported_modules(path)
        if breaks_the_rule(module)
    ]
    assert not wrong, f"{path.relative_to(ROOT)} imports the web layer: {wrong}"


def test_the_private_module_check_knows_a_violation() -> None:
    cases = ROOT / "helpdesk/services/cases.py"
    assert foreign_private_import(ROOT / "helpdesk/sla/timers.py", "helpdesk.services._lookup")
    assert not foreign_private_import(cases, "helpdesk.services._lookup")
    assert not foreign_private_import(cases, "email._policybase")
    assert not foreign_private_import(ROOT / "helpdesk/channels/email/imap.py", "helpdesk._sql")


@pytest.mark.parametrize("path", all_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_private_modules_stay_in_their_package(path: Path) -> None:
    wrong = [
        f"line {line}: {module}"
        for line, module in imported_modules(path)
        if foreign_private_import(path, module)
    ]
    assert not wrong, f"{path.relative_to(ROOT)} imports another package's private module: {wrong}"


CORE_TABLES_MODULE = ROOT / "helpdesk/tables.py"


def imports_a_package_module(module: str) -> bool:
    """True when ``module`` is any module of our packages: the core's tables
    module is the bottom of the schema and knows no face or feature package
    (each registers its own tables with it; :mod:`helpdesk.installed` lists them)."""
    return module.split(".")[0] in OUR_PACKAGES


def test_the_core_tables_check_knows_a_violation() -> None:
    assert imports_a_package_module("knowledge_base.tables")
    assert imports_a_package_module("helpdesk.sla.tables")
    assert imports_a_package_module("helpdesk.idempotency")
    assert imports_a_package_module("portal")
    assert not imports_a_package_module("piccolo.table")
    assert not imports_a_package_module("helpdesk_extra")


def test_the_core_tables_import_no_other_package() -> None:
    wrong = [
        f"line {line}: {module}"
        for line, module in imported_modules(CORE_TABLES_MODULE)
        if imports_a_package_module(module)
    ]
    assert not wrong, f"helpdesk/tables.py imports a package's module: {wrong}"
