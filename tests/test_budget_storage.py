"""Erase after use, failed deletions retried and a plan of 2 write nothing to disk: the budget
session (tests/helpers/budget_session.py) traced under `strace -f`, as `say` and `listen` are in
tests/test_zero_storage.py."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulator import Fault
from tests.emulator.config import TEST_API_KEY
from tests.emulator.server import Emulator
from tests.helpers.cli import cli_env
from tests.helpers.storage import disallowed_writes, strace_prefix

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


@pytest.mark.emulator(concurrency_limit=2)
def test_erasing_with_failures_on_a_plan_of_two_writes_nothing(
    tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script("history", [Fault.server_error(), Fault.connection_reset()])
    emulator.script("transcript", [Fault.server_error()])
    env = {**cli_env(tmp_path, TEST_API_KEY, emulator.base_url), "PYTHONDONTWRITEBYTECODE": "1"}
    home = Path(env["HOME"])
    home.mkdir(parents=True)
    trace = tmp_path / "trace.txt"
    result = subprocess.run(
        [*strace_prefix(trace), sys.executable, "-m", "tests.helpers.budget_session"],
        env=env, cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["slots"] == 2  # the plan's maximum, read off the speech response
    assert seen["pending_max"] >= 1
    assert emulator.history_items == {} and emulator.transcripts == {}
    assert len(emulator.requests("history")) == 3 and len(emulator.requests("transcript")) == 2
    assert disallowed_writes(trace, [Path(env["XDG_CONFIG_HOME"])]) == []
