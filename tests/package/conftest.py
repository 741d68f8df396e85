"""The PyInstaller bundle, run as a user without Python would run it.

These tests carry the `package` marker: `make test` leaves them out (they need the bundle,
which takes minutes to build), `make package-test` builds it if needed and runs only them.
"""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sysconfig
from pathlib import Path

import pytest

from tests.helpers.pulse import PulseServer

ROOT = Path(__file__).resolve().parents[2]
# `make package-test` builds here; VOICEDESK_BUNDLE points the tests at another build.
BUNDLE = Path(os.environ.get("VOICEDESK_BUNDLE", ROOT / "dist" / "voicedesk"))
# Names a Python interpreter or its tools go by, kept off the bundle's PATH.
_PYTHONISH = re.compile(r"(python|pip|pydoc|idle|2to3|pyinstaller|pytest|py\b).*")


@pytest.fixture(scope="session")
def bundle() -> Path:
    """The bundle's folder (its executable is `voicedesk` in it)."""
    if not (BUNDLE / "voicedesk").is_file():
        pytest.fail(f"no bundle at {BUNDLE}: `make package-test` builds it first")
    return BUNDLE


def python_locations() -> list[str]:
    """Where this test's Python keeps its code: the bundle must never read from there."""
    places = {*site.getsitepackages(), sysconfig.get_paths()["stdlib"], str(ROOT / "voicedesk")}
    return sorted(str(Path(p).resolve()) for p in places)


def _tools_without_python(bin_dir: Path) -> str:
    """A PATH like a desktop's, minus every Python: links to the system's tools."""
    bin_dir.mkdir()
    for folder in ("/usr/local/bin", "/usr/bin", "/bin"):
        if not Path(folder).is_dir():
            continue
        for tool in Path(folder).iterdir():
            link = bin_dir / tool.name
            if not _PYTHONISH.match(tool.name) and not link.exists():
                link.symlink_to(tool)
    return str(bin_dir)


@pytest.fixture
def bundle_env(tmp_path: Path, pulse: PulseServer) -> dict[str, str]:
    """No venv, no Python on PATH, an empty HOME; the test sound server for audio."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": _tools_without_python(tmp_path / "bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        **pulse.env,
    }
    for name in ("python", "python3", "python3.11", "pip"):
        assert shutil.which(name, path=env["PATH"]) is None, name
    return env


def run_bundle(
    bundle: Path, *args: str, env: dict[str, str], timeout: float = 120, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bundle / "voicedesk"), *args],
        env=env, cwd=env["HOME"], capture_output=True, text=True, timeout=timeout,
        **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip
