"""Shared helpers of the email-parser tests: the fixture folder and its generator."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "email"


def load_generator() -> ModuleType:
    """``tests/fixtures/email/make_fixtures.py`` as a module (it is not a package)."""
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fixture_bytes(name: str) -> bytes:
    """The bytes of one committed .eml fixture."""
    return (FIXTURES / name).read_bytes()
