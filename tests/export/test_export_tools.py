"""The export CLIs end to end: atomic under SIGKILL, the TF-free device path, the Serving client."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from tests.helpers import REPO, run_tflite_sample_without_tensorflow, run_tool
from tfgen.export import client, layout, serving, tflite
from tfgen.export import metadata as md
from tfgen.export import noise as export_noise


def test_export_killed_mid_write_leaves_no_version(tiny_workdir, tmp_path):
    export_dir = tmp_path / "models"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "tools" / "export.py"),
            f"--workdir={tiny_workdir}",
            f"--export_dir={export_dir}",
            "--formats=saved_model",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    base = export_dir / "pixelrnn"
    deadline = time.time() + 120
    # Kill once the SavedModel is being written into its temporary directory.
    while time.time() < deadline and not list(base.glob(f"{layout.TMP_PREFIX}*/variables")):
        if proc.poll() is not None:
            pytest.fail("export finished before it could be killed")
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list(base.glob(f"{layout.TMP_PREFIX}*")), "the kill did not land mid-export"
    assert layout.versions(base) == []  # nothing a server would load
    run_tool("export", f"--workdir={tiny_workdir}", f"--export_dir={export_dir}", "--formats=saved_model")
    assert layout.versions(base) == [1]
    assert not list(base.glob(f"{layout.TMP_PREFIX}*"))  # leftovers removed
    serving.ServingSession(base / "1").run_warmup()


def test_a_training_runs_export_has_every_tflite_variant(tiny_workdir):
    folder = tiny_workdir / "export" / "tflite" / "pixelrnn" / "1"
    assert sorted(p.name for p in folder.glob("*.tflite")) == sorted(f"{v}.tflite" for v in tflite.VARIANTS)
    assert json.loads((folder / md.METADATA_FILE).read_text())["tflite_variants"] == list(tflite.VARIANTS)


def test_export_cli_writes_both_formats_and_refuses_existing_version(tiny_workdir, tmp_path):
    proc = run_tool(
        "export", f"--workdir={tiny_workdir}", f"--export_dir={tmp_path}", "--version=7", "--tflite_variants=float32"
    )
    assert "exported version 7" in proc.stdout
    assert (tmp_path / "pixelrnn" / "7" / "assets.extra" / "tf_serving_warmup_requests").is_file()
    assert (tmp_path / "tflite" / "pixelrnn" / "7" / "float32.tflite").is_file()
    again = run_tool("export", f"--workdir={tiny_workdir}", f"--export_dir={tmp_path}", "--version=7", check=False)
    assert again.returncode != 0 and "already exists" in again.stderr


def test_tflite_sample_imports_no_tensorflow_and_matches_saved_model(tiny_workdir, tmp_path):
    tflite_file = tiny_workdir / "export" / "tflite" / "pixelrnn" / "1" / "float32.tflite"
    run_tflite_sample_without_tensorflow(tflite_file, tmp_path, "--num=6", "--seed=9", f"--out={tmp_path / 'lite.png'}")
    run_tool(
        "sample",
        f"--export_dir={tiny_workdir / 'export' / 'pixelrnn' / '1'}",
        "--num=6",
        "--seed=9",
        f"--out={tmp_path / 'saved.png'}",
    )
    lite = np.asarray(Image.open(tmp_path / "lite.png"))
    saved = np.asarray(Image.open(tmp_path / "saved.png"))
    np.testing.assert_array_equal(lite, saved)
    other = tmp_path / "other.png"
    run_tool("tflite_sample", f"--model={tflite_file}", "--num=6", "--seed=10", f"--out={other}")
    assert not np.array_equal(np.asarray(Image.open(other)), lite)


def test_serve_client_requests_round_trip(tiny_workdir):
    """The client's gRPC and REST requests, answered as TF Serving answers them."""
    version_dir = tiny_workdir / "export" / "pixelrnn" / "1"
    meta = md.read(version_dir)
    session = serving.ServingSession(version_dir)
    inputs = export_noise.request_inputs(md.signature_inputs(meta, "sample"), 3, seed=1)
    direct = session.run("sample", inputs)["images"]

    request = client.grpc_request("pixelrnn", "sample", inputs)
    assert request.model_spec.name == "pixelrnn" and set(request.inputs) == {"noise", "temperature"}
    grpc_images = client.parse_grpc_response(session.predict(request))["images"]
    np.testing.assert_array_equal(grpc_images, direct)

    body = json.loads(json.dumps(client.rest_body("sample", inputs)))
    # TF Serving decodes columnar JSON into tensors of the signature's dtypes.
    dtypes = {i.name: i.dtype for i in md.signature_inputs(meta, "sample")}
    decoded = {k: np.asarray(v, dtype=dtypes[k]) for k, v in body["inputs"].items()}
    outputs = session.run(body["signature_name"], decoded)
    # A single-output signature comes back as a bare value in "outputs".
    response = json.dumps({"outputs": outputs["images"].tolist()})
    rest_images = client.parse_rest_response(response, ["images"])["images"]
    np.testing.assert_array_equal(rest_images, direct)
    assert (
        client.rest_url("localhost:8501", "pixelrnn", 3)
        == "http://localhost:8501/v1/models/pixelrnn/versions/3:predict"
    )
    with pytest.raises(RuntimeError, match="server refused"):
        client.parse_rest_response('{"error": "noise: values must be in [0, 1)"}', ["images"])


def test_serve_client_dry_run_prints_a_valid_request(tiny_workdir):
    proc = run_tool("serve_client", f"--metadata={tiny_workdir / 'export' / 'pixelrnn' / '1'}", "--dry_run", "--num=2")
    body = json.loads(proc.stdout.strip().splitlines()[-1])
    assert body["signature_name"] == "sample"
    assert np.asarray(body["inputs"]["noise"]).shape == (2, 8, 8, 1)
