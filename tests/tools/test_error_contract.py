"""Every tool's error contract (issue 13): a user error is one `error:` line and exit status 2, never a traceback.

Each tool in `tools/` gets command lines with user errors: bad flag values,
unknown flags and names, missing required flags, missing or foreign workdirs
and files, corrupt files. All of them run in ONE subprocess
(`error_contract_driver.py`, which imports TensorFlow once), as
`python tools/<tool>.py ...` would run them; one test then checks every
result. A new tool without cases fails `test_every_tool_has_cases`.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO
from tfgen.training import workdir as wd

TOOLS = sorted(p.stem for p in (REPO / "tools").glob("*.py") if not p.stem.startswith("_"))

# Placeholders in the arguments, filled in by `make_paths`:
#   {run}      the session's tiny PixelRNN workdir (trained, exported as version 1)
#   {export}   its SavedModel version dir; {tflite} its float32.tflite
#   {missing}  a path that does not exist; {empty} an empty folder
#   {garbage}  a folder whose run.json is not JSON; {no_ckpt} a folder with {run}'s run.json, no checkpoints
#   {bad_palette} a pokemon data folder whose colormap.txt line 2 is corrupt
#   {bad_json} a tfgen.json that is not JSON; {bad_tflite} a truncated .tflite file (its tfgen.json beside it)
#   {bad_ckpt} a copy of {run} whose newest checkpoint's data file is truncated
#   {nan_run} a copy of {run} (4 steps) to blow up with an infinite learning rate
#   {busy} a copy of {run} that the test process holds the training lock of while the cases run
#   {tmp} a scratch folder for outputs
NO_RUN = "run.json: no run here"
NOT_A_RUN = "run.json: not a tfgen run file"
BAD_PALETTE = "colormap.txt:2: a palette line must be three integers"
BAD_CKPT = "checkpoints/ckpt-4: checkpoint cannot be read"

# tool -> [(case id, argv, fragment the error line must contain)]
CASES = {
    "battle": [
        ("missing_b", ["--a={run}"], "--b must have a value other than None"),
        ("missing_workdir", ["--a={missing}", "--b={missing}", "--num_samples=2"], NO_RUN),
        ("not_adversarial", ["--a={run}", "--b={run}", "--num_samples=2"], "--a: pixelrnn is not an adversarial model"),
        ("negative_tolerance", ["--a={run}", "--b={run}", "--tolerance=-1"], "--tolerance=-1"),
        ("operating_point_one", ["--a={run}", "--b={run}", "--operating_point=1"], "operating_point must be in (0, 1)"),
    ],
    "benchmark": [
        ("unknown_model", ["--model=nope"], "--model=nope: value should be one of"),
        ("unknown_architecture", ["--notraining", "--architectures=nope"], "unknown models ['nope']"),
        ("unknown_config", ["--notraining", "--export", "--config=nope"], "model 'pixelrnn' has no config 'nope'"),
        ("missing_workdir", ["--notraining", "--export", "--workdir={missing}"], NO_RUN),
        ("unknown_flag", ["--nope=1"], "Unknown command line flag 'nope'"),
        ("zero_pairs", ["--notraining", "--architectures=row_lstm", "--pairs=0"], "--pairs=0"),
        ("not_adversarial", ["--notraining", "--adversarial=pixelrnn"], "pixelrnn is not an adversarial model"),
        ("bad_override", ["--notraining", "--adversarial=gran:steps"], "--adversarial=gran:steps: 'steps' is not"),
        ("unknown_override", ["--notraining", "--adversarial=gran:nope=1"], "gran takes no argument nope"),
        ("varied_override", ["--notraining", "--adversarial=dcgan:reuse_fakes=true"], "what this benchmark varies"),
        ("batch_not_split", ["--notraining", "--adversarial=dcgan:d_steps=5"], "give --train_batch a multiple of 5"),
    ],
    "evaluate": [
        ("missing_workdir", ["--workdir={missing}"], NO_RUN),
        ("empty_workdir", ["--workdir={empty}"], NO_RUN),
        ("garbage_run_json", ["--workdir={garbage}"], NOT_A_RUN),
        ("no_checkpoint", ["--workdir={no_ckpt}"], "checkpoints: no checkpoint to load"),
        (
            "unknown_split",
            ["--workdir={run}", "--split=nope"],
            "has no split 'nope'; its splits: all, train, validation",
        ),
        ("unknown_dataset", ["--workdir={run}", "--dataset=nope"], "--dataset=nope: value should be one of"),
        ("corrupt_data_file", ["--workdir={run}", "--dataset=pokemon", "--data_dir={bad_palette}"], BAD_PALETTE),
        ("zero_batch", ["--workdir={run}", "--batch_size=0"], "--batch_size=0"),
        ("no_workdir_flag", [], "--workdir must have a value other than None"),
        ("corrupt_checkpoint", ["--workdir={bad_ckpt}", "--checkpoint=latest"], BAD_CKPT),
        (
            "pixels_of_an_autoregressive_model",
            ["--workdir={run}", "--samples", "--num_samples=4", "--pixels=drawn"],
            "--pixels applies to models that decode pixel distributions",
        ),
        ("unknown_pixels", ["--workdir={run}", "--pixels=mean"], "--pixels=mean: value should be one of"),
    ],
    "evaluate_latent": [
        ("missing_workdir", ["--workdir={missing}"], NO_RUN),
        ("not_a_vae", ["--workdir={run}"], "pixelrnn has no code posterior to importance-sample (not a VAE)"),
        ("negative_samples", ["--workdir={run}", "--importance_samples=-1"], "--importance_samples=-1"),
    ],
    "export": [
        ("missing_workdir", ["--workdir={missing}", "--export_dir={tmp}/export"], NO_RUN),
        ("garbage_run_json", ["--workdir={garbage}", "--export_dir={tmp}/export"], NOT_A_RUN),
        ("unknown_format", ["--workdir={run}", "--formats=nope"], "unknown export formats ['nope']"),
        ("unknown_variant", ["--workdir={run}", "--tflite_variants=int4"], "unknown TFLite variants ['int4']"),
        ("zero_max_batch", ["--workdir={run}", "--max_batch=0"], "max_batch must be in 1..65536, got 0"),
        ("existing_version", ["--workdir={run}", "--version=1"], "1 already exists; export a new --version"),
        ("zero_version", ["--workdir={run}", "--version=0"], "--version=0"),
        ("corrupt_checkpoint", ["--workdir={bad_ckpt}", "--checkpoint=latest", "--export_dir={tmp}/export2"], BAD_CKPT),
    ],
    "interpolate_sentences": [
        ("missing_second", ["--workdir={run}", "--first=a b"], "--second must have a value other than None"),
        ("missing_workdir", ["--workdir={missing}", "--first=a", "--second=b"], NO_RUN),
        ("not_sentences", ["--workdir={run}", "--first=a", "--second=b"], "pixelrnn does not model sentences"),
        ("one_step", ["--workdir={run}", "--first=a", "--second=b", "--steps=1"], "steps must be in 2..101, got 1"),
    ],
    "latent_pictures": [
        ("missing_workdir", ["--workdir={missing}", "--out_dir={tmp}/pictures"], NO_RUN),
        ("not_latent", ["--workdir={run}", "--out_dir={tmp}/pictures"], "pixelrnn is not an image autoencoder or VAE"),
        ("zero_pairs", ["--workdir={run}", "--num_pairs=0"], "--num_pairs=0"),
    ],
    "pca_baseline": [
        ("unknown_dataset", ["--dataset=nope"], "--dataset=nope: value should be one of"),
        ("zero_components", ["--components=0"], "--components=0"),
        ("missing_data", ["--dataset=ptb", "--data_dir={missing}"], "ptb.valid.txt: file not found"),
        ("corrupt_data_file", ["--dataset=pokemon", "--data_dir={bad_palette}"], BAD_PALETTE),
        ("too_many_components", ["--dataset=digits", "--components=100000"], "components must be in 1..64"),
    ],
    "quantize": [
        ("missing_out", ["--images={empty}"], "--out must have a value other than None"),
        ("missing_folder", ["--images={missing}", "--out={tmp}/q"], "folder not found"),
        ("no_images", ["--images={empty}", "--out={tmp}/q"], "no images (.png"),
        ("one_colour", ["--images={empty}", "--out={tmp}/q", "--colours=1"], "--colours=1"),
        ("unknown_mode", ["--images={empty}", "--out={tmp}/q", "--mode=nope"], "--mode=nope: value should be one of"),
    ],
    "sample": [
        ("zero_num", ["--workdir={run}", "--out={tmp}/s.png", "--num=0"], "number of images must be in 1..1024, got 0"),
        ("huge_num", ["--workdir={run}", "--out={tmp}/s.png", "--num=1000000000"], "1..1024, got 1000000000"),
        ("zero_temperature", ["--workdir={run}", "--out={tmp}/s.png", "--temperature=0"], "temperature must be > 0"),
        ("cover_above_one", ["--workdir={run}", "--out={tmp}/s.png", "--cover=1.5"], "cover must be a fraction"),
        ("missing_workdir", ["--workdir={missing}", "--out={tmp}/s.png"], NO_RUN),
        ("garbage_run_json", ["--workdir={garbage}", "--out={tmp}/s.png"], NOT_A_RUN),
        ("missing_export", ["--export_dir={missing}", "--out={tmp}/s.png"], "no tfgen export metadata here"),
        ("neither_source", ["--out={tmp}/s.png"], "give exactly one of --workdir and --export_dir"),
        ("non_integer_num", ["--workdir={run}", "--num=many"], "--num=many: invalid literal for int()"),
        (
            "unknown_split",
            ["--workdir={run}", "--cover=0.5", "--split=test"],
            "has no split 'test'; its splits: all, train",
        ),
        ("corrupt_checkpoint", ["--workdir={bad_ckpt}", "--checkpoint=latest", "--out={tmp}/s.png"], BAD_CKPT),
    ],
    "serve_client": [
        ("missing_metadata", ["--metadata={missing}", "--dry_run"], "no tfgen export metadata here"),
        ("corrupt_metadata", ["--metadata={bad_json}", "--dry_run"], "not tfgen export metadata"),
        ("no_server", ["--metadata={export}"], "give --rest=HOST:PORT, --grpc=HOST:PORT or --dry_run"),
        ("zero_num", ["--metadata={export}", "--dry_run", "--num=0"], "batch size 0 is outside 1..256"),
        ("unknown_signature", ["--metadata={export}", "--dry_run", "--signature=nope"], "unknown signature 'nope'"),
    ],
    "tflite_sample": [
        ("missing_model_flag", [], "the following arguments are required: --model"),
        ("missing_model", ["--model={missing}"], "no such TFLite model"),
        ("corrupt_model", ["--model={bad_tflite}"], "float32.tflite: not a readable TFLite model"),
        ("non_integer_num", ["--model={tflite}", "--num=many"], "argument --num: invalid int value: 'many'"),
        ("huge_num", ["--model={tflite}", "--num=1000000000", "--out={tmp}/t.png"], "batch size 1000000000 is outside"),
        ("zero_temperature", ["--model={tflite}", "--temperature=0", "--out={tmp}/t.png"], "temperature: values must"),
        ("unknown_signature", ["--model={tflite}", "--signature=nope"], "unknown signature 'nope'"),
        ("negative_seed", ["--model={tflite}", "--seed=-1", "--out={tmp}/t.png"], "a noise seed is an integer in"),
    ],
    "web": [
        ("missing_export_dir_flag", [], "the following arguments are required: --export_dir"),
        ("missing_dir", ["--export_dir={missing}"], "missing: no such directory"),
        ("no_export", ["--export_dir={empty}"], "empty: no TFLite export here"),
        ("non_integer_port", ["--export_dir={empty}", "--port=x"], "argument --port: invalid int value: 'x'"),
    ],
    "train": [
        ("unknown_config", ["--config=nope", "--workdir={tmp}/t1"], "model 'pixelrnn' has no config 'nope'"),
        ("unknown_model", ["--model=nope"], "--model=nope: value should be one of"),
        ("zero_checkpoint_every", ["--checkpoint_every=0", "--workdir={tmp}/never"], "--checkpoint_every=0"),
        (
            "unknown_tflite_variant",
            ["--config=tiny", "--tflite_variants=float32,float64", "--workdir={tmp}/never"],
            "unknown TFLite variants ['float64']",
        ),
        ("unknown_flag", ["--nope=1"], "Unknown command line flag 'nope'"),
        ("unknown_strategy", ["--strategy=nope"], "--strategy=nope: value should be one of"),
        (
            "unknown_model_arg",
            ["--config=tiny", "--model_args=unitz=3", "--workdir={tmp}/t7"],
            "takes no argument unitz",
        ),
        ("bad_model_arg", ["--config=tiny", "--model_args=units=-1", "--workdir={tmp}/t8"], "--model_args=units=-1"),
        (
            "non_boolean_switch",
            ["--model=gran", "--config=tiny", "--model_args=centre_reading=maybe", "--workdir={tmp}/t9"],
            "--model_args: centre_reading='maybe' is not true or false",
        ),
        ("garbage_run_json", ["--config=tiny", "--workdir={garbage}", "--noexport"], NOT_A_RUN),
        (
            "judge_error_without_a_judge",
            ["--config=tiny", "--judge_error=0.2", "--workdir={tmp}/t10"],
            "--judge_error: pixelrnn has no discriminator to calibrate",
        ),
        (
            "judge_error_out_of_range",
            ["--model=dcgan", "--config=tiny", "--judge_error=1.5", "--workdir={tmp}/t11"],
            "judge_error=1.5 (the config's, or --judge_error): must be in (0, 1)",
        ),
        (
            "judge_error_without_averages",
            ["--model=dcgan", "--config=tiny", "--model_args=ema_decay=0", "--workdir={tmp}/t13"],
            "ema_decay=0 keeps none; give --judge_error=0",
        ),
        (
            "judge_error_of_a_critic",
            ["--model=dcgan", "--config=wgan_gp", "--judge_error=0.2", "--workdir={tmp}/t12"],
            "a wasserstein critic has no real/fake threshold",
        ),
        (
            "corrupt_data_file",
            ["--config=tiny", "--dataset=pokemon", "--data_dir={bad_palette}", "--workdir={tmp}/t2"],
            BAD_PALETTE,
        ),
        (
            "speech_folder_missing",
            ["--model=wavenet", "--config=tiny", "--data_dir={missing}", "--workdir={tmp}/t4"],
            "folder not found",
        ),
        (
            "speech_folder_without_wavs",
            ["--model=wavenet", "--config=tiny", "--data_dir={empty}", "--workdir={tmp}/t5"],
            "no .wav files here",
        ),
        (
            "flip_on_digits",
            ["--config=tiny", "--flip", "--workdir={tmp}/t6"],
            "mirrored digits examples are not valid",
        ),
        ("another_run", ["--config=default", "--workdir={no_ckpt}", "--steps=1"], "holds a different run"),
        ("xla_under_mirrored", ["--strategy=mirrored", "--jit_compile"], "XLA cannot compile a step that reads"),
        ("multi_worker_without_cluster", ["--strategy=multi_worker", "--workdir={tmp}/t3"], "needs TF_CONFIG"),
        (
            "non_finite_weights",
            ["--config=tiny", "--workdir={nan_run}", "--steps=40", "--learning_rate=inf", "--noexport"],
            "non-finite weights at step 5",
        ),
        ("busy_workdir", ["--config=tiny", "--workdir={busy}", "--steps=6", "--noexport"], "is in use by process"),
    ],
}


def make_paths(tiny_workdir, root):
    """The placeholders' values, with the files they name written under `root`."""
    out = {
        "run": tiny_workdir,
        "export": tiny_workdir / "export" / "pixelrnn" / "1",
        "tflite": tiny_workdir / "export" / "tflite" / "pixelrnn" / "1" / "float32.tflite",
        "missing": root / "missing",
        "tmp": root / "scratch",
    }
    for name in ("empty", "garbage", "no_ckpt", "bad_palette", "bad_tflite", "tmp"):
        out[name] = root / name
        out[name].mkdir()
    (out["garbage"] / "run.json").write_text("\0\0\0 not json")
    shutil.copy(tiny_workdir / "run.json", out["no_ckpt"] / "run.json")
    (out["bad_palette"] / "colormap.txt").write_text("255 255 255\n0 0\n")
    (out["bad_palette"] / "pixel_color.txt").write_text("0 " * 400 + "\n")
    shutil.copy(out["tflite"].with_name("tfgen.json"), out["bad_tflite"])
    out["bad_tflite"] = out["bad_tflite"] / "float32.tflite"
    out["bad_tflite"].write_bytes(out["tflite"].read_bytes()[:1000])
    for name in ("bad_ckpt", "busy", "nan_run"):
        out[name] = root / name
        shutil.copytree(tiny_workdir, out[name], ignore=shutil.ignore_patterns("export"))
    with open(out["bad_ckpt"] / "checkpoints" / "ckpt-4.data-00000-of-00001", "r+b") as f:
        f.truncate(100)
    out["bad_json"] = root / "tfgen.json"
    out["bad_json"].write_text("{not json")
    return out


def run_all_cases(paths, root):
    """{(tool, case id): {"status", "stdout", "stderr"}} of every case, run in one subprocess."""
    cases = [
        {"tool": tool, "id": case_id, "args": [a.format(**paths) for a in args]}
        for tool, tool_cases in CASES.items()
        for case_id, args, _ in tool_cases
    ]
    (root / "cases.json").write_text(json.dumps(cases))
    proc = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("error_contract_driver.py")),
            root / "cases.json",
            root / "results.json",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=root,  # a relative path a tool writes lands here, not in the checkout
    )
    assert proc.returncode == 0, f"the driver failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return {(r["tool"], r["id"]): r for r in json.loads((root / "results.json").read_text())}


def test_every_tool_has_cases():
    assert sorted(CASES) == TOOLS, "give every tool in tools/ its user-error cases here"
    for tool, cases in CASES.items():
        assert len(cases) >= 3, tool


def contract_breach(result, fragment):
    """Why a case's result breaks the contract, or None."""
    stderr = result["stderr"]
    lines = [line for line in stderr.splitlines() if line.strip()]
    if "Traceback" in stderr:
        return "a traceback"
    if result["status"] != 2:
        return f"exit status {result['status']}, not 2"
    if not lines or not lines[-1].startswith("error: "):
        return "the last line of stderr does not start with 'error: '"
    if fragment not in lines[-1]:
        return f"the error line does not say {fragment!r}"
    return None


def test_every_user_error_is_one_line_and_status_2(tiny_workdir, tmp_path_factory):
    # One test for all cases (not one per case): under pytest-xdist a fixture
    # shared by parametrized tests would run the driver on every worker.
    root = tmp_path_factory.mktemp("error_contract")
    paths = make_paths(tiny_workdir, root)
    with wd.Lock(paths["busy"]):  # a live writer, as far as the driver's `train` can tell
        results = run_all_cases(paths, root)
    failures = []
    for tool, cases in CASES.items():
        for case_id, args, fragment in cases:
            result = results[(tool, case_id)]
            breach = contract_breach(result, fragment)
            if breach:
                failures.append(
                    f"tools/{tool}.py {' '.join(args)} [{case_id}]: {breach}\n"
                    f"--- stderr:\n{result['stderr'][-3000:]}\n--- stdout:\n{result['stdout'][-1000:]}"
                )
    assert not failures, f"{len(failures)} cases break the error contract:\n\n" + "\n\n".join(failures)
    # Refused before writing: no picture from a refused sample request, no workdir from a refused run.
    assert not [p.name for p in paths["tmp"].iterdir() if p.name in ("s.png", "t.png", "never")]


def contract_script(runner, error):
    """A `python -c` program whose main raises `error`, started the way tools start."""
    call = "cli.run(main)" if runner == "run" else "cli.run_plain(main)"
    return (
        "from tfgen import cli\n"
        "from tfgen.errors import InvalidArgumentError\n"
        "def main(argv):\n"
        f"    raise {error}\n"
        f"{call}\n"
    )


def run_contract_script(runner, error):
    return subprocess.run(
        [sys.executable, "-c", contract_script(runner, error)], capture_output=True, text=True, timeout=120, cwd=REPO
    )


@pytest.mark.parametrize("runner", ["run", "run_plain"])
def test_programming_error_keeps_its_traceback(runner):
    proc = run_contract_script(runner, "RuntimeError('a bug, not the user')")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback (most recent call last)" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "RuntimeError: a bug, not the user"
    assert "error: " not in proc.stderr


@pytest.mark.parametrize("runner", ["run", "run_plain"])
def test_user_error_exits_2_in_a_real_process(runner):
    proc = run_contract_script(runner, "InvalidArgumentError('bad value\\n  on two lines')")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "error: bad value on two lines\n"
