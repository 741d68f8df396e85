"""A real Wayland compositor: headless sway. Its key binding calls `voicedesk ptt press` and
`voicedesk ptt release` (there is no system-wide key on Wayland without the portal), and the
words are typed with wtype into another Wayland client.

sway refuses to run as root, so under root the test runs the compositor and its clients as a
system user of its own (`vdtest`, made when missing). F9 comes from `wtype`'s virtual keyboard.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.processes import LineProcess
from tests.helpers.xvfb import speech_with_pauses
from tests.helpers.xvfb import wait_for as _wait
from tests.test_gui_type_into import TRANSCRIPT

pytestmark = [pytest.mark.gui, pytest.mark.audio, pytest.mark.timeout(180)]
ROOT = Path(__file__).resolve().parent.parent
USER = "vdtest"


def _as_user() -> tuple[list[str], int, int]:
    """The command prefix that drops root, and the uid and gid the session runs as."""
    if os.geteuid() != 0:
        return [], os.getuid(), os.getgid()
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
            check=True,
        )
        entry = pwd.getpwnam(USER)
    drop = ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups"]
    return drop, entry.pw_uid, entry.pw_gid


def _world_readable(path: Path) -> bool:
    """Can any user run this file (every folder on the way searchable)?"""
    path = path.resolve()
    return all(p.stat().st_mode & 0o001 for p in path.parents) and bool(path.stat().st_mode & 0o005)


def _python_for_user(drop: list[str]) -> tuple[str, str]:
    """An interpreter the session user can run, and the PYTHONPATH it needs. The test's own
    may sit where only root can read (a pyenv in /root): then the system's Python of the same
    version, with this environment's packages."""
    if not drop or _world_readable(Path(sys.executable)):
        return sys.executable, str(ROOT)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(version, path="/usr/bin:/usr/local/bin")
    packages = [p for p in sys.path if p.endswith("site-packages") and _world_readable(Path(p))]
    if system is None or not packages:
        pytest.skip(f"no {version} the session user can run")
    return system, os.pathsep.join([str(ROOT), *packages])


@pytest.fixture
def sway(pulse) -> Iterator[tuple[list[str], dict[str, str]]]:
    """A headless sway with F9 bound to `voicedesk ptt`; yields (user prefix, client env)."""
    missing = [tool for tool in ("sway", "wtype", "setpriv") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")
    drop, uid, gid = _as_user()
    runtime = Path(tempfile.mkdtemp(prefix="vdsway-"))  # short: a socket lives here
    os.chown(runtime, uid, gid)
    interpreter, python_path = _python_for_user(drop)
    python = f"{interpreter} -m voicedesk ptt"
    config = runtime / "config"
    config.write_text(
        "output HEADLESS-1 resolution 1280x800\n"
        f"bindsym --no-repeat F9 exec {python} press\n"
        f"bindsym --release F9 exec {python} release\n"
    )
    # The test's PulseAudio server is root's; its session user needs to reach the socket.
    pulse_dir = pulse.runtime_dir
    pulse_mode = pulse_dir.stat().st_mode & 0o777
    pulse_dir.chmod(0o711)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(runtime),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(runtime / "config.d"),
        "XDG_SESSION_TYPE": "wayland",
        "WAYLAND_DISPLAY": "wayland-1",
        "PYTHONPATH": python_path,
        "PYTHONDONTWRITEBYTECODE": "1",
        "VOICEDESK_TEST_PYTHON": interpreter,
        "DBUS_SESSION_BUS_ADDRESS": f"unix:path={runtime}/no-bus",  # never a real bus
        **{name: value for name, value in pulse.env.items() if name != "XDG_RUNTIME_DIR"},
    }
    log = (runtime / "sway.log").open("wb")
    compositor = subprocess.Popen(
        [*drop, "env", "-i", *(f"{k}={v}" for k, v in env.items()),
         "WLR_BACKENDS=headless", "WLR_RENDERER=pixman", "WLR_LIBINPUT_NO_DEVICES=1",
         "sway", "-c", str(config)],
        stdout=log, stderr=subprocess.STDOUT, cwd=runtime,
    )  # fmt: skip
    try:
        _wait(lambda: (runtime / "wayland-1").exists() or compositor.poll() is not None, 20, "sway")
        if compositor.poll() is not None:
            pytest.fail("sway did not start")
        yield drop, env
    finally:
        compositor.terminate()
        compositor.wait(10)
        log.close()
        print((runtime / "sway.log").read_text(errors="replace")[-3000:])
        pulse_dir.chmod(pulse_mode)
        shutil.rmtree(runtime, ignore_errors=True)


@pytest.mark.emulator(transcript=TRANSCRIPT)
def test_sway_binding_and_wtype(sway, pulse, emulator):
    drop, env = sway
    folder = Path(env["XDG_CONFIG_HOME"]) / "voicedesk"
    folder.mkdir(parents=True)
    (folder / "voicedesk.ini").write_text(
        "[ptt]\ntype_into_focused=true\ninsert_method=auto\nlive_transcript=false\n"
    )
    for path in (folder.parent, folder, folder / "voicedesk.ini"):
        os.chown(path, Path(env["HOME"]).stat().st_uid, Path(env["HOME"]).stat().st_gid)
    client = {
        **env,
        "QT_QPA_PLATFORM": "wayland",
        "ELEVENLABS_API_KEY": "sk_test_0123456789abcdef",
        "ELEVENLABS_BASE_URL": emulator.base_url,
    }
    python = env["VOICEDESK_TEST_PYTHON"]
    command = [*drop, "env", "-i", *(f"{k}={v}" for k, v in client.items()), python]
    app = LineProcess([*command, "-m", "voicedesk"], os.environ.copy())
    target = None
    runtime = Path(env["XDG_RUNTIME_DIR"])

    def windows() -> dict[str, bool]:
        """Window titles in sway's tree, each with whether it has the focus."""
        sockets = list(runtime.glob("sway-ipc.*.sock"))
        done = subprocess.run(
            ["swaymsg", "-t", "get_tree", "-r"],
            env={**os.environ, "SWAYSOCK": str(sockets[0]) if sockets else ""},
            capture_output=True, text=True, timeout=20,
        )  # fmt: skip
        found: dict[str, bool] = {}
        nodes = [json.loads(done.stdout)] if done.returncode == 0 else []
        while nodes:
            node = nodes.pop()
            if node.get("pid"):
                found[node.get("name") or ""] = bool(node.get("focused"))
            nodes.extend(node.get("nodes", []) + node.get("floating_nodes", []))
        return found

    try:
        emulator.wait_done("voices", timeout=60)
        _wait(lambda: "voicedesk" in windows(), 60, "the voicedesk window")
        # Opened last, the target has the focus (sway focuses a new window).
        target = LineProcess([*command, "-m", "tests.helpers.text_target"], os.environ.copy())
        target.expect("ready", timeout=60)
        _wait(lambda: windows().get("text target"), 30, "the other client to have the focus")
        socket = Path(env["XDG_RUNTIME_DIR"]) / "voicedesk-ptt"
        _wait(socket.exists, 20, "the window's ptt socket")

        # F9 down through a virtual keyboard, held while we speak; sway runs the bindings.
        wayland = {"WAYLAND_DISPLAY": str(Path(env["XDG_RUNTIME_DIR"]) / "wayland-1")}
        hold = subprocess.Popen(
            ["wtype", "-P", "F9", "-s", "9000", "-p", "F9"], env={**os.environ, **wayland}
        )
        _wait(lambda: "Source Output #" in pulse.pactl("list", "source-outputs"), 15, "the mic")
        pulse.play_into_mic(speech_with_pauses("testing one two three")).wait(15)
        assert hold.wait(20) == 0
        emulator.wait_done("stt", timeout=20)

        def text() -> str:
            target.send("dump")
            return json.loads(target.expect("{"))["text"]

        _wait(lambda: text() == TRANSCRIPT, 60, "the transcript typed into the other client")
        assert len(emulator.requests("stt")) == 1
    finally:
        if target is not None:
            print("target:", target.output()[-3:])
            target.close()
        app.close()
        print("\n".join(app.output()[-40:]))
