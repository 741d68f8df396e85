"""Process-wide settings: made by `early_init.apply()`, first thing in `cli.main`, and by
nothing else at import time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers.cli import cli_env

REPO = Path(__file__).resolve().parents[1]


def _python(script: str, tmp_path: Path, **env: str) -> dict[str, object]:
    clean = cli_env(tmp_path)
    for name in (
        "ORT_DISABLE_TELEMETRY", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
        "HF_HUB_DISABLE_TELEMETRY", "QT_LOGGING_RULES", "JACK_NO_START_SERVER",
    ):  # fmt: skip
        clean.pop(name, None)
    clean.update(env)
    result = subprocess.run(
        [sys.executable, "-c", script], env=clean, cwd=REPO, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.splitlines()[-1]))


def test_cli_main_applies_them_before_loading_any_library(tmp_path: Path) -> None:
    script = (
        "import json, os, sys\n"
        "from voicedesk import cli\n"
        "heavy = ('PySide6', 'sounddevice', 'onnxruntime', 'huggingface_hub', 'faster_whisper',\n"
        "         'piper', 'av', 'elevenlabs')\n"
        "loaded = [name for name in heavy if name in sys.modules]\n"
        "try:\n"
        "    cli.main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "names = ('ORT_DISABLE_TELEMETRY', 'HF_HUB_OFFLINE', 'QT_LOGGING_RULES',\n"
        "         'JACK_NO_START_SERVER')\n"
        "print(json.dumps({'loaded': loaded, 'switch': sys.getswitchinterval(),\n"
        "                  **{name: os.environ.get(name) for name in names}}))\n"
    )
    seen = _python(script, tmp_path, ORT_DISABLE_TELEMETRY="0", QT_LOGGING_RULES="*.debug=true")
    assert seen["loaded"] == []
    assert seen["ORT_DISABLE_TELEMETRY"] == "1"  # forced: no telemetry cache on the disk
    assert seen["HF_HUB_OFFLINE"] == "1"
    assert seen["QT_LOGGING_RULES"] == "*.debug=true"  # a user's own rules win
    assert seen["JACK_NO_START_SERVER"] == "1"
    assert isinstance(seen["switch"], float) and seen["switch"] <= 0.001


def test_importing_any_module_changes_no_process_setting(tmp_path: Path) -> None:
    script = (
        "import importlib, json, os, pkgutil, sys\n"
        "import PySide6.QtCore  # PySide6 itself sets PYSIDE6_OPTION_PYTHON_ENUM\n"
        "import voicedesk\n"
        "before = dict(os.environ), sys.getswitchinterval()\n"
        "names = [m.name for m in pkgutil.walk_packages(voicedesk.__path__, 'voicedesk.')\n"
        "         if m.name not in ('voicedesk.__main__', 'voicedesk.early_init')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "after = dict(os.environ), sys.getswitchinterval()\n"
        "changed = sorted(k for k in set(before[0]) | set(after[0])\n"
        "                 if before[0].get(k) != after[0].get(k))\n"
        "print(json.dumps({'modules': len(names), 'changed': changed,\n"
        "                  'switch': [before[1], after[1]]}))\n"
    )
    seen = _python(script, tmp_path, QT_QPA_PLATFORM="offscreen")
    assert isinstance(seen["modules"], int) and seen["modules"] > 50
    assert seen["changed"] == []
    switch = seen["switch"]
    assert isinstance(switch, list) and switch[0] == switch[1]


def test_a_crash_in_native_code_says_where(tmp_path: Path) -> None:
    script = (
        "import ctypes\n"
        "from voicedesk import cli\n"
        "try:\n"
        "    cli.main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "def crash_here():\n"
        "    ctypes.string_at(0)  # a segfault, as a native library's bug would make one\n"
        "crash_here()\n"
    )
    env = cli_env(tmp_path)
    env.pop("PYTHONFAULTHANDLER", None)
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == -11
    assert "Segmentation fault" in result.stderr and "crash_here" in result.stderr
