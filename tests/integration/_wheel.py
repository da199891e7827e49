"""The app as a user installs it: a wheel built from a copy of the source tree,
installed (not editable) into a fresh virtual environment, and processes run
with that environment's interpreter.

The wheel is built from a copy so that the build leaves no ``build/`` or
``*.egg-info`` behind in the working tree (a stale ``build/lib`` would also
hide package data the current rules leave out). The build uses pip's own
build isolation, so the ``[build-system]`` requirements of ``pyproject.toml``
apply, exactly as for ``pip install .``.

The fresh environment borrows the dependencies of the running one through a
``.pth`` file naming a folder of symbolic links to its ``site-packages``, minus
our own distribution and its editable-install hooks: the app itself can only
come from the wheel. Nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.integration._processes import Daemons

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTION = "helpdesk"
# What a build of the source tree does not need (caches, local data, tests).
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".*_cache",
    ".hypothesis", "data", "test-artifacts", "tests", "bench",
)  # fmt: skip


def build_wheel(work: Path) -> Path:
    """Copy the source tree under ``work`` and build its wheel there; the wheel's path."""
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE, symlinks=True)
    out = work / "wheelhouse"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)],
        check=True,
        cwd=work,
        env=clean_env(),
        timeout=180,
    )
    (wheel,) = out.glob(f"{DISTRIBUTION}-*.whl")
    return wheel


def package_files(wheel: Path) -> tuple[set[str], set[str]]:
    """(every non-Python file of our packages in the source tree, those in the wheel),
    as ``/``-separated paths relative to the repository root."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        top_level_txt = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
        packages = archive.read(top_level_txt).decode().split()
    in_source = {
        path.relative_to(ROOT).as_posix()
        for package in packages
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".py", ".pyc"}
    }
    in_wheel = {n for n in names if n.split("/")[0] in packages and not n.endswith(".py")}
    return in_source, in_wheel


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The process environment without anything that would steer imports."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}
    }
    return {**env, **(extra or {})}


def _is_ours(name: str) -> bool:
    """Whether a ``site-packages`` entry belongs to our (editable) distribution."""
    return (
        name.startswith(("__editable__", f"{DISTRIBUTION}-"))
        or name.endswith(".pth")
        or name in {"helpdesk", "knowledge_base", "portal", "agent_console"}
    )


@dataclass(frozen=True)
class Installed:
    """A virtual environment with the wheel installed."""

    root: Path
    python: Path

    def run(self, args: list[str], env: dict[str, str], timeout: float = 120) -> str:
        """Run ``python ARGS`` in a neutral directory; its stdout (fails with its output)."""
        done = subprocess.run(
            [str(self.python), *args],
            cwd=self.root,  # never the repository: ``-m`` puts the working directory first
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        return done.stdout


def install_wheel(wheel: Path, root: Path) -> Installed:
    """A fresh virtual environment at ``root`` with ``wheel`` installed (not editable)."""
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
    python = root / "bin" / "python"
    purelib = sysconfig.get_path("purelib", vars={"base": str(root), "platbase": str(root)})
    borrowed = root / "borrowed-site-packages"
    borrowed.mkdir()
    here = Path(sysconfig.get_path("purelib"))
    for entry in here.iterdir():
        if not _is_ours(entry.name):
            (borrowed / entry.name).symlink_to(entry)
    Path(purelib, "borrowed.pth").write_text(f"{borrowed}\n")
    installed = Installed(root, python)
    installed.run(
        ["-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)], clean_env()
    )
    return installed


def venv_daemons(log_dir: Path, installed: Installed) -> Daemons:
    """:class:`Daemons` whose processes run ``python -m helpdesk.cli`` of ``installed``,
    from its root (outside the repository)."""
    return Daemons(log_dir, python=str(installed.python), cwd=installed.root)
