"""The sampling page (web/, served by tools/web.py) in a real browser: headless Chromium.

The page loads the very files tools/export.py writes and must draw what
tools/tflite_sample.py draws for the same seed; every registered model is
covered by tests/export/test_export_conformance.py, this file covers the page's
features and its errors on one tiny PixelRNN export.
"""

import http.client
import json
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.helpers import REPO, canvas_rgb, open_page, run_tool
from tfgen import visualize
from tfgen.export import metadata as md
from tfgen.export import noise
from tfgen.export.litert_runtime import TFLiteModel
from tfgen.export.web_page import press_run


@pytest.fixture(scope="module")
def export_dir(tiny_workdir):
    return tiny_workdir / "export" / "tflite" / "pixelrnn" / "1"


@pytest.mark.parametrize("num", [1, 16])
def test_the_page_draws_what_tflite_sample_writes(browser, served, export_dir, tmp_path, num):
    run_tool(
        "tflite_sample",
        f"--model={export_dir / 'float32.tflite'}",
        f"--num={num}",
        "--seed=3",
        f"--out={tmp_path / 's.png'}",
    )
    want = np.asarray(Image.open(tmp_path / "s.png").convert("RGB"))
    page = open_page(browser, served(export_dir) + f"?num={num}&seed=3&run=1")
    assert page.inner_text("#status").startswith(f"sample: {num} in"), page.inner_text("#error")
    np.testing.assert_array_equal(canvas_rgb(page), want)
    page.close()


def test_the_variants_and_the_temperature_reach_the_model(browser, served, export_dir):
    model = TFLiteModel(export_dir / "float16.tflite")
    request = md.generating_request(model.metadata, "sample", 4, seed=8, temperature=0.5)
    want = visualize.grid(visualize.render_export(model.run("sample", **request)["images"], model.metadata))
    page = open_page(browser, served(export_dir) + "?variant=float16&num=4&seed=8&temperature=0.5&run=1")
    np.testing.assert_array_equal(canvas_rgb(page), want)
    page.close()


@pytest.mark.parametrize("covered", [0.5, 0.75])
def test_the_page_completes_a_sample_as_the_runtime_does(browser, served, export_dir, covered):
    model = TFLiteModel(export_dir / "float32.tflite")
    meta = model.metadata
    first = model.run("sample", **md.generating_request(meta, "sample", 2, seed=5))["images"][0]
    h, w, _ = meta["image_shape"]
    num_known = round(h * w * (1 - covered))
    given = {"images": np.repeat(first[None].astype(np.int32), 3, axis=0), "num_known": np.full(3, num_known, np.int32)}
    completions = model.run(
        "complete", **noise.request_inputs(md.signature_inputs(meta, "complete"), 3, seed=6, given=given)
    )["images"]
    # Completions keep the known part: a check that the page's request really is a completion.
    flat = completions.reshape(3, -1)
    assert (flat[:, :num_known] == first.reshape(-1)[:num_known]).all()

    page = open_page(browser, served(export_dir) + "?num=2&seed=5&run=1")
    page.select_option("#signature", "complete")
    page.fill("#num", "3")
    page.fill("#seed", "6")
    page.select_option("#covered", str(covered))
    page.select_option("#source", "sample:0")
    press_run(page)
    assert page.inner_text("#status").startswith("complete: 3 in"), page.inner_text("#error")
    np.testing.assert_array_equal(canvas_rgb(page), visualize.grid(visualize.render_export(completions, meta)))
    covered_original = visualize.cover(visualize.render_export(first[None], meta), num_known)
    np.testing.assert_array_equal(canvas_rgb(page, "#original"), visualize.grid(covered_original))
    page.close()


def test_an_uploaded_picture_is_completed(browser, served, export_dir, tmp_path):
    model = TFLiteModel(export_dir / "float32.tflite")
    meta = model.metadata
    image = np.random.default_rng(1).integers(0, len(meta["palette"]), (8, 8, 1)).astype(np.int32)
    Image.fromarray(visualize.render_export(image[None], meta)[0]).save(tmp_path / "up.png")
    given = {"images": image[None], "num_known": np.full(1, 32, np.int32)}
    want = model.run("complete", **noise.request_inputs(md.signature_inputs(meta, "complete"), 1, 0, given=given))[
        "images"
    ]
    page = open_page(browser, served(export_dir) + "?num=1&seed=0")
    page.select_option("#signature", "complete")
    page.set_input_files("#upload", str(tmp_path / "up.png"))
    page.wait_for_function("document.querySelector('#source').value === 'upload'")
    press_run(page)
    assert page.inner_text("#error") == ""
    np.testing.assert_array_equal(canvas_rgb(page), visualize.grid(visualize.render_export(want, meta)))
    page.close()


def broken_copy(export_dir, tmp_path, **changes):
    copy = tmp_path / "1"
    shutil.copytree(export_dir, copy)
    for name, content in changes.items():
        (copy / name.replace("_tflite", ".tflite").replace("_json", ".json")).write_bytes(content)
    return copy


def test_a_file_that_is_not_a_tflite_model_shows_an_error(browser, served, export_dir, tmp_path):
    copy = broken_copy(export_dir, tmp_path, float32_tflite=b"<html>not a model</html>" * 10)
    page = open_page(browser, served(copy))
    assert page.evaluate("document.body.dataset.status") == "error"
    assert "float32.tflite is not a TFLite model" in page.inner_text("#error")
    assert page.is_disabled("#run")
    page.close()


def test_metadata_that_does_not_match_the_model_shows_an_error(browser, served, export_dir, tmp_path):
    meta = json.loads((export_dir / "tfgen.json").read_text())
    meta["signatures"]["sample"]["inputs"][0]["name"] = "seed_noise"
    meta["signatures"]["complete"]["inputs"][0]["shape"] = [9, 9, 1]
    copy = broken_copy(export_dir, tmp_path, tfgen_json=json.dumps(meta).encode())
    page = open_page(browser, served(copy))
    error = page.inner_text("#error")
    assert "tfgen.json does not match" in error
    assert "'seed_noise' is not in the model" in error and "[B, 9,9,1] in tfgen.json" in error
    assert page.is_disabled("#run")
    page.close()


def test_a_count_over_the_exports_maximum_is_refused_and_can_be_corrected(browser, served, export_dir):
    page = open_page(browser, served(export_dir) + "?num=100000&run=1")
    assert "num: expected an integer in 1..256, got '100000'" in page.inner_text("#error")
    page.fill("#num", "2")  # a bad request loses nothing: correct it and run again
    press_run(page)
    assert page.inner_text("#status").startswith("sample: 2 in") and page.inner_text("#error") == ""
    page.close()


def get(url, path):
    host, port = url.split("//")[1].strip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", path)  # sent as written: no client-side normalisation of '..'
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, response.getheader("Content-Type"), body


def test_the_server_serves_only_its_roots_with_the_right_types(served, export_dir):
    url = served(export_dir)
    status, kind, body = get(url, "/models/0/float32.tflite")
    assert (status, kind) == (200, "application/octet-stream") and body == (export_dir / "float32.tflite").read_bytes()
    wasm = next((REPO / "web/node_modules/@litertjs/core/wasm").glob("*.wasm")).name
    assert get(url, f"/vendor/@litertjs/core/wasm/{wasm}")[:2] == (200, "application/wasm")
    assert get(url, "/noise.js")[:2] == (200, "text/javascript")
    models = json.loads(get(url, "/models.json")[2])
    assert [m["name"] for m in models] == ["pixelrnn/1"] and models[0]["metadata"]["model"] == "pixelrnn"
    for path in [
        "/models/0/../../../../../../etc/passwd",
        "/models/0/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/models/1/tfgen.json",  # only one export is served
        "/../tools/web.py",
        "/vendor/../../tools/web.py",
        "/vendor/@litertjs/../../package.json",
        "/node_modules/@litertjs/core/package.json",  # the runtime is served under /vendor only
        "/models/0/",
    ]:
        assert get(url, path)[0] == 404, path


def run_web_tool(*args):
    return subprocess.run(
        [sys.executable, str(REPO / "tools" / "web.py"), *args], capture_output=True, text=True, timeout=60
    )


def assert_one_line_error(proc, fragment):
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr[-2000:]
    assert fragment in proc.stderr


def test_web_tool_errors_are_one_line(tmp_path, export_dir):
    assert_one_line_error(run_web_tool(f"--export_dir={tmp_path}"), "no TFLite export here")
    copy = broken_copy(export_dir, tmp_path, tfgen_json=b"{not json")
    assert_one_line_error(run_web_tool(f"--export_dir={copy}"), "tfgen.json: not tfgen export metadata")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run_web_tool(f"--export_dir={export_dir}", f"--port={port}")
    assert_one_line_error(proc, f"cannot serve on 127.0.0.1:{port}: Address already in use")
