"""The top-level resources: the icons load, and `make install-desktop` installs a valid entry."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from voicedesk.ui import icons

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "resources"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def test_icons_come_from_the_top_level_resources(qapp) -> None:
    assert icons.RESOURCES.resolve() == RESOURCES.resolve()
    assert not icons.app_icon().isNull()
    assert not icons.icon("microphone").isNull()
    assert icons.icon("no-such-icon").isNull()


@pytest.mark.parametrize("size", SIZES)
def test_png_icons_have_their_size(qapp, size: int) -> None:
    image = QImage(str(RESOURCES / "icons" / f"voicedesk-{size}.png"))
    assert (image.width(), image.height()) == (size, size)


def test_install_desktop_into_a_private_data_home(tmp_path: Path) -> None:
    data = tmp_path / "share"
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "install-desktop",
         f"XDG_DATA_HOME={data}", "VOICEDESK_BIN=/opt/voice desk/voicedesk"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    entry = data / "applications" / "voicedesk.desktop"
    assert 'Exec="/opt/voice desk/voicedesk"' in entry.read_text().splitlines()
    assert (data / "icons/hicolor/scalable/apps/voicedesk.svg").is_file()
    for size in SIZES:
        assert (data / f"icons/hicolor/{size}x{size}/apps/voicedesk.png").is_file()
    metainfo = data / "metainfo" / "org.voicedesk.voicedesk.metainfo.xml"
    assert metainfo.is_file()

    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True)
        assert check.returncode == 0 and not check.stdout.strip(), check.stdout
    if shutil.which("appstreamcli"):
        check = subprocess.run(
            ["appstreamcli", "validate", "--no-net", str(metainfo)], capture_output=True
        )
        assert check.returncode == 0, check.stdout
