"""The bundle's build helpers (packaging/): the int8 Whisper rewrite and the encoder stand-ins.

They run inside the PyInstaller spec; these check them without building the bundle.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

PACKAGING = Path(__file__).resolve().parents[1] / "packaging"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, PACKAGING / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


quantize_ct2 = _load("quantize_ct2")
stub_library = _load("stub_library")


def _model(tmp_path: Path) -> Path:
    rng = np.random.default_rng(7)
    variables = {
        "decoder/embeddings/weight": rng.normal(size=(50, 8)).astype(np.float16),
        "decoder/layer_0/ffn/linear_0/weight": rng.normal(size=(16, 8)).astype(np.float16),
        "decoder/layer_0/ffn/linear_0/bias": rng.normal(size=16).astype(np.float16),
        "encoder/conv1/weight": rng.normal(size=(8, 4, 3)).astype(np.float16),
        "encoder/zero/weight": np.zeros((2, 8), np.float16),
        "decoder/num_heads": np.array(6, np.int16),  # a scalar: stays 0-D
    }
    path = tmp_path / "model.bin"
    aliases = [("decoder/projection/weight", "decoder/embeddings/weight")]
    quantize_ct2.write_model(path, "WhisperSpec", 3, variables, aliases)
    return path


def test_int8_weights_match_ctranslate2s_own_converter(tmp_path: Path) -> None:
    from ctranslate2.specs import common_spec
    from ctranslate2.specs.model_spec import NumpyVariable

    source = _model(tmp_path)
    target = tmp_path / "int8.bin"
    quantize_ct2.quantize_file(source, target)
    spec, revision, before, aliases = quantize_ct2.read_model(source)
    _, _, after, after_aliases = quantize_ct2.read_model(target)
    assert (spec, revision, after_aliases) == ("WhisperSpec", 3, aliases)

    for name in ("decoder/embeddings/weight", "decoder/layer_0/ffn/linear_0/weight"):
        reference = common_spec.LinearSpec()
        reference.weight = NumpyVariable(before[name].copy())
        reference.bias = NumpyVariable(before["decoder/layer_0/ffn/linear_0/bias"].copy())
        reference._quantize("int8_float16")  # what `ct2-*-converter --quantization` runs
        assert after[name].dtype == np.int8
        np.testing.assert_array_equal(after[name], reference.weight.numpy())
        np.testing.assert_array_equal(after[name + "_scale"], reference.weight_scale.numpy())
    assert after["encoder/conv1/weight"].shape == (8, 4, 3)  # convolutions: per output row
    assert np.all(after["encoder/zero/weight"] == 0)  # an all-zero row doesn't divide by zero
    assert after["decoder/layer_0/ffn/linear_0/bias"].dtype == np.float16
    assert after["decoder/num_heads"].shape == () and after["decoder/num_heads"] == 6


def test_a_quantized_model_is_not_quantized_twice(tmp_path: Path) -> None:
    once = tmp_path / "once.bin"
    quantize_ct2.quantize_file(_model(tmp_path), once)
    with pytest.raises(ValueError, match="already quantized"):
        quantize_ct2.quantize_file(once, tmp_path / "twice.bin")


@pytest.mark.skipif(not shutil.which("as"), reason="binutils (make package-deps) not installed")
def test_a_stand_in_has_the_soname_and_every_function_its_users_import(tmp_path: Path) -> None:
    """A stand-in for libm, for numpy's core module (which imports sqrt, cos, ... from it)."""
    from numpy._core import _multiarray_umath

    libm = subprocess.run(
        ["sh", "-c", "ldconfig -p | awk '/libm.so.6 .*x86-64/ {print $NF; exit}'"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if not libm:
        pytest.skip("no x86-64 libm.so.6")
    out = tmp_path / "libm-stub.so"
    functions = stub_library.build_stub(libm, [_multiarray_umath.__file__], str(out), 0)
    assert {"sqrt", "cos"} <= set(functions)
    assert stub_library.soname(str(out)) == "libm.so.6"
    defined = stub_library._dynamic_symbols(str(out), defined=True)
    assert set(functions) <= set(defined)
    assert out.stat().st_size < 100_000
