"""The page's JavaScript modules against the Python they mirror, run by Node.js.

The page must give the same pictures as `tools/tflite_sample.py` for the same
seed, so its noise (web/noise.js), its drawing (web/render.js) and its fixing of
a model's batch size (web/tflite_batch.js) are each checked against Python here,
without a browser; tests/web/test_page.py checks the whole page in one.
"""

import json
import shutil
import subprocess

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from tests.helpers import IN_CI, REPO
from tfgen import visualize
from tfgen.export import noise
from tfgen.export.litert_runtime import TFLiteModel
from tfgen.export.metadata import generating_request
from tfgen.export.signatures import TensorInput

NODE = shutil.which("node")


def node(script):
    """Runs an ES module script in web/ with Node.js; returns what it prints as JSON."""
    if NODE is None:
        message = "Node.js is not installed (the page's modules are tested with it)"
        if IN_CI:
            pytest.fail(message + "; under CI it must be")
        pytest.skip(message)
    proc = subprocess.run(
        [NODE, "--input-type=module", "-e", script], capture_output=True, text=True, cwd=REPO / "web", timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


# Random123's published known answers for Philox4x32-10 (counter, key, result).
PHILOX_KAT = [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    (
        [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344],
        [0xA4093822, 0x299F31D0],
        [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1],
    ),
]


def test_philox_gives_the_published_answers_in_both_languages():
    cases = json.dumps([[c, k] for c, k, _ in PHILOX_KAT])
    got_js = node(
        f"import {{philox4x32}} from './noise.js'; const cases = {cases};"
        "console.log(JSON.stringify(cases.map(([c, k]) => philox4x32(c, k))))"
    )
    for (counter, key, want), js in zip(PHILOX_KAT, got_js):
        assert list(noise.philox4x32(np.array([counter], np.uint32), key)[0]) == want
        assert js == want


# Inputs as tfgen.json declares them: uniform in a range (the autoregressive samplers' noise, an
# energy model's init, one with a range other than [0, 1)) and unbounded (standard normal codes).
INPUTS = [
    (TensorInput("noise", (8, 8, 1), "float32", low=0.0, high=1.0, high_open=True), 3, 7, 0),
    (TensorInput("init", (5,), "float32", low=-1.0, high=3.0), 4, 2**40 + 3, 1),
    (TensorInput("codes", (16,), "float32"), 5, 0, 2),
    (TensorInput("codes", (7,), "float32"), 3, 2**53 - 1, 0),  # an odd count: half a pair is left over
]


def test_the_page_draws_the_same_noise_as_python():
    requests = [[inp.to_json(), num, seed, stream] for inp, num, seed, stream in INPUTS]
    got_js = node(
        "import {noiseFor} from './noise.js';"
        f"const r = {json.dumps(requests)};"
        "console.log(JSON.stringify(r.map(([inp, n, seed, stream]) => Array.from(noiseFor(inp, n, seed, stream)))))"
    )
    for (inp, num, seed, stream), js in zip(INPUTS, got_js):
        want = noise.noise_for(inp, num, seed, stream)
        assert want.dtype == np.float32 and want.shape == (num, *inp.shape)
        # Bit for bit: JSON carries a float32 exactly (as the shortest double that rounds to it).
        np.testing.assert_array_equal(np.asarray(js, np.float32).view(np.uint32), want.reshape(-1).view(np.uint32))
        if inp.low is not None:
            assert want.min() >= inp.low and want.max() < inp.high


def test_seeds_outside_the_exact_integers_are_refused_in_both_languages():
    for bad in (-1, 2**53, 1.5, True):
        with pytest.raises(ValueError, match="seed"):
            noise.noise_for(INPUTS[2][0], 2, bad)
    got = node(
        "import {normals} from './noise.js';"
        "console.log(JSON.stringify([-1, 2 ** 53, 1.5].map((s) => { try { normals(s, 0, 2); return 'ok'; }"
        " catch (e) { return e.name; } })))"
    )
    assert got == ["RangeError"] * 3


def test_the_generator_is_uniform_and_normal():
    u = noise.uniforms(11, 0, 400_000)
    assert u.min() >= 0.0 and u.max() < 1.0 and np.all(u * 2**24 == np.floor(u * 2**24))
    assert abs(u.mean() - 0.5) < 0.002 and abs(u.var() - 1 / 12) < 0.001
    z = noise.normals(12, 0, 400_000).astype(np.float64)
    # Moments of N(0, 1) to within ~5 standard errors, and its tail mass: a polar method that
    # forgot the sqrt, the log or the rejection moves these far more.
    assert abs(z.mean()) < 0.008 and abs(z.std() - 1.0) < 0.006
    assert abs(np.mean(z**4) - 3.0) < 0.06 and abs(np.mean(np.abs(z) > 2.0) - 0.0455) < 0.002
    # Streams and seeds are independent draws, not shifted copies.
    assert np.corrcoef(noise.normals(12, 1, 10_000), z[:10_000])[0, 1] < 0.05


def test_the_handmade_log_is_the_natural_log():
    # The polar method's s lies in (0, 1), at least 2^-46 (two multiples of 2^-23, squared).
    s = np.concatenate([np.random.default_rng(0).random(100_000), [2.0**-46, 0.5, 0.7071067811865476, 1 - 2.0**-24]])
    s = s[s > 0]
    np.testing.assert_allclose(noise._log(s), np.log(s), rtol=1e-15, atol=0)  # within ~4 ulp


def test_the_page_renders_grids_as_the_python_tools_do():
    rng = np.random.default_rng(0)
    palette = rng.integers(0, 256, (17, 3)).tolist()
    indices = rng.integers(0, 17, (5, 6, 7, 1)).astype(np.int32)
    # Float colours that land exactly on half a level (k + 0.5) / 255 in float32: numpy rounds them
    # half to even, JavaScript's Math.round half up; and values outside [0, 1].
    colours = rng.random((3, 4, 4, 1)).astype(np.float32)
    colours.flat[:6] = np.array([0.5, 2.5, 3.5, 254.5, -3, 300], np.float32) / np.float32(255)
    rgb_colours = rng.random((2, 3, 3, 3)).astype(np.float32)
    cases = [(indices, palette), (colours, None), (rgb_colours, None)]
    script = "import {grid, toRgb} from './render.js';\nconst out = [];\n"
    for values, pal in cases:
        n, h, w, c = values.shape
        array = "Int32Array" if values.dtype == np.int32 else "Float32Array"
        script += (
            f"{{ const g = grid(toRgb(new {array}({json.dumps(values.reshape(-1).tolist())}), {n}, {h}, {w}, {c},"
            f" {json.dumps(pal)}), {n}, {h}, {w});\n"
            "out.push([g.height, g.width, Array.from(g.data)]); }\n"
        )
    script += "console.log(JSON.stringify(out));"
    for (values, pal), (height, width, rgba) in zip(cases, node(script)):
        want = visualize.grid(visualize.render_export(values, {"palette": pal}))
        got = np.asarray(rgba, np.uint8).reshape(height, width, 4)
        np.testing.assert_array_equal(got[..., :3], want)
        assert (got[..., 3] == 255).all()


def test_fixing_the_batch_size_keeps_the_models_answers(tiny_workdir, tmp_path):
    """web/tflite_batch.js writes batch 3 into the model; the Python interpreter runs the file it writes."""
    source = tiny_workdir / "export" / "tflite" / "pixelrnn" / "1" / "float32.tflite"
    patched = tmp_path / "float32.tflite"
    shutil.copy(source.parent / "tfgen.json", tmp_path / "tfgen.json")
    node(
        "import {withBatch} from './tflite_batch.js'; import {readFileSync, writeFileSync} from 'node:fs';"
        f"const bytes = new Uint8Array(readFileSync({json.dumps(str(source))}));"
        f"writeFileSync({json.dumps(str(patched))}, withBatch(bytes, 3)); console.log('[]')"
    )
    interpreter = Interpreter(model_path=str(patched))
    for name in ("sample", "complete", "log_prob"):
        details = interpreter.get_signature_runner(name).get_input_details()
        assert {k: list(d["shape_signature"]) for k, d in details.items()}["images" if name != "sample" else "noise"][
            0
        ] == 3
    original, fixed = TFLiteModel(source), TFLiteModel(patched)
    request = generating_request(original.metadata, "sample", 3, seed=4)
    want = original.run("sample", **request)["images"]
    np.testing.assert_array_equal(fixed.run("sample", **request)["images"], want)
    images = want.astype(np.int32)
    np.testing.assert_allclose(
        fixed.run("log_prob", images=images)["log_prob"], original.run("log_prob", images=images)["log_prob"], rtol=1e-6
    )
