"""Rewrites a CTranslate2 `model.bin` with int8 weights, as `ct2-*-converter --quantization
int8_float16` would have written it: the bundle's Whisper model goes from 72 MB to 37 MB.

voicedesk loads the model with `compute_type="int8"` (voicedesk/engines/local.py), so
CTranslate2 quantizes the float16 weights to int8 at every load anyway; quantizing them once at
build time, the same way, ships what runs. The arithmetic is CTranslate2's own converter's
(`ctranslate2/specs/model_spec.py`, `LayerSpec._quantize`): every `weight` of a linear,
convolution or embedding layer becomes int8 with one float32 scale per output row
(`127 / max|row|`), stored as `<name>_scale`; the other float variables (biases, layer norms,
position encodings) stay float16, aliases stay aliases. The binary layout (version 6) is the one
`ModelSpec._serialize` writes.

Used by packaging/voicedesk.spec; `python packaging/quantize_ct2.py IN OUT` runs it by hand.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np

# Order of CTranslate2's DataType enum (include/ctranslate2/types.h).
DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
BINARY_VERSION = 6


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> int:
        (value,) = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return int(value)

    def string(self) -> str:
        size = self.unpack("H")  # counts the terminating NUL
        text = self.data[self.pos : self.pos + size - 1].decode("utf-8")
        self.pos += size
        return text

    def raw(self, size: int) -> bytes:
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def read_model(path: Path) -> tuple[str, int, dict[str, np.ndarray], list[tuple[str, str]]]:
    """(spec name, revision, {name: array}, [(alias, target)]) from a version-6 model.bin."""
    reader = _Reader(path.read_bytes())
    version = reader.unpack("I")
    if version != BINARY_VERSION:
        raise ValueError(f"{path}: CTranslate2 binary version {version}, expected {BINARY_VERSION}")
    spec, revision = reader.string(), reader.unpack("I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(reader.unpack("I")):
        name = reader.string()
        shape = tuple(reader.unpack("I") for _ in range(reader.unpack("B")))
        dtype = np.dtype(DTYPES[reader.unpack("B")])
        variables[name] = np.frombuffer(reader.raw(reader.unpack("I")), dtype).reshape(shape)
    aliases = [(reader.string(), reader.string()) for _ in range(reader.unpack("I"))]
    if reader.pos != len(reader.data):
        raise ValueError(f"{path}: {len(reader.data) - reader.pos} bytes after the aliases")
    return spec, revision, variables, aliases


def quantize(variables: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """int8 weights with per-row float32 scales, as CTranslate2's converter makes them."""
    out: dict[str, np.ndarray] = {}
    for name, value in variables.items():
        if name.rsplit("/", 1)[-1] != "weight" or value.ndim < 2 or value.dtype.kind != "f":
            out[name] = value
            continue
        rows = value.astype(np.float32).reshape(value.shape[0], -1)  # conv1d: 3-D -> 2-D
        amax = np.amax(np.absolute(rows), axis=1)
        amax[amax == 0] = 127.0
        amax = np.maximum(amax, np.float32(127) / np.finfo(np.float32).max)
        scale = (127.0 / amax).astype(np.float32)
        out[name] = np.rint(rows * scale[:, None]).astype(np.int8).reshape(value.shape)
        out[name + "_scale"] = scale
    return out


def write_model(
    path: Path,
    spec: str,
    revision: int,
    variables: dict[str, np.ndarray],
    aliases: list[tuple[str, str]],
) -> None:
    def string(text: str) -> bytes:
        encoded = text.encode("utf-8")
        return struct.pack("<H", len(encoded) + 1) + encoded + b"\0"

    parts = [struct.pack("<I", BINARY_VERSION), string(spec), struct.pack("<I", revision)]
    parts.append(struct.pack("<I", len(variables)))
    for name in sorted(variables):  # the converter writes them in name order
        value = variables[name]  # tobytes() is C order; ascontiguousarray would make scalars 1-D
        parts += [string(name), struct.pack("<B", value.ndim)]
        parts += [struct.pack("<I", dim) for dim in value.shape]
        parts += [struct.pack("<BI", DTYPES.index(value.dtype.name), value.nbytes), value.tobytes()]
    parts.append(struct.pack("<I", len(aliases)))
    parts += [string(alias) + string(target) for alias, target in aliases]
    path.write_bytes(b"".join(parts))


def quantize_file(source: Path, target: Path) -> None:
    spec, revision, variables, aliases = read_model(source)
    if any(name.endswith("_scale") for name in variables):
        raise ValueError(f"{source} is already quantized")
    write_model(target, spec, revision, quantize(variables), aliases)


if __name__ == "__main__":
    quantize_file(Path(sys.argv[1]), Path(sys.argv[2]))
