"""The bundle's size budget: it fails when the bundle or the release archive grows past it.

Issue 11 aims at 500 MB unpacked and 250 MB as the archive, both offline models included.
The bundle comes to about 537 / 280 MB: PyAV's video encoders (~31 MB) must stay (libavcodec
needs them to load) and the rest is models, CTranslate2, onnxruntime, ICU and numpy's BLAS;
docs/packaging.md has the breakdown. The budget is what it weighs now plus a few percent, so
any new heavy part (a Qt module, an unstripped library) fails here. MB are MiB, as `du -sh`.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from tests.package.conftest import ROOT
from voicedesk import __version__

pytestmark = pytest.mark.package

MIB = 1024 * 1024
UNPACKED_BUDGET = 560 * MIB
ARCHIVE_BUDGET = 290 * MIB
ARCHIVE = ROOT / "dist" / f"voicedesk-{__version__}-linux-x86_64.tar.gz"

# Left out on purpose (packaging/voicedesk.spec); one coming back is a regression.
LEFT_OUT = re.compile(
    r"PySide6/Qt/(translations/.*|plugins/multimedia/.*|lib/libQt6(Quick|Qml|Pdf)\w*\.so.*"
    r"|lib/libavcodec\.so.*)"
)


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]


def _largest_parts(folder: Path, count: int = 15) -> str:
    """The heaviest top-level parts of `_internal`, for the failure message."""
    internal = folder / "_internal"
    sizes: dict[str, int] = {}
    for path in _files(internal):
        top = path.relative_to(internal).parts[0]
        sizes[top] = sizes.get(top, 0) + path.stat().st_size
    heaviest = sorted(sizes.items(), key=lambda item: -item[1])[:count]
    return "\n".join(f"{size / MIB:8.1f} MB  {name}" for name, size in heaviest)


def test_unpacked_bundle_is_within_budget(bundle: Path) -> None:
    total = sum(p.stat().st_size for p in _files(bundle))
    assert total <= UNPACKED_BUDGET, (
        f"the bundle is {total / MIB:.0f} MB, over {UNPACKED_BUDGET / MIB:.0f} MB:\n"
        + _largest_parts(bundle)
    )


def test_release_archive_is_within_budget_and_checksummed(bundle: Path) -> None:
    assert ARCHIVE.is_file(), f"no {ARCHIVE.name}: `make dist` writes it"
    size = ARCHIVE.stat().st_size
    assert size <= ARCHIVE_BUDGET, f"{ARCHIVE.name} is {size / MIB:.0f} MB"
    digest = hashlib.sha256()
    with ARCHIVE.open("rb") as archive:
        while block := archive.read(1 << 20):
            digest.update(block)
    sums = (ARCHIVE.parent / "SHA256SUMS").read_text()
    assert f"{digest.hexdigest()}  {ARCHIVE.name}" in sums.splitlines()


def test_what_is_left_out_stays_out(bundle: Path) -> None:
    internal = bundle / "_internal"
    back = [
        str(p.relative_to(internal))
        for p in internal.rglob("*")
        if LEFT_OUT.fullmatch(str(p.relative_to(internal)))
    ]
    assert not back, back
