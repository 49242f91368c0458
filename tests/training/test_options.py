"""How a run's options resolve against its config (no training, but for one 1-step run)."""

import json

import pytest

from tfgen import registry
from tfgen.training import trainer


def test_config_xla_default_applies_under_the_default_strategy():
    _, _, cfg = trainer._resolve(trainer.TrainOptions(model="pixelrnn", config="default"))
    assert cfg.jit_compile is True
    _, _, cfg = trainer._resolve(trainer.TrainOptions(model="pixelrnn", config="default", jit_compile=False))
    assert cfg.jit_compile is False  # the flag overrides the config


@pytest.mark.parametrize("strategy", ["mirrored", "multi_worker"])
def test_config_xla_default_yields_to_a_distributed_strategy(strategy):
    _, _, cfg = trainer._resolve(trainer.TrainOptions(model="pixelrnn", config="default", strategy=strategy))
    assert cfg.jit_compile is False


def test_explicit_xla_under_a_distributed_strategy_is_refused():
    with pytest.raises(ValueError, match="XLA cannot compile a step that reads variables mirrored"):
        trainer._resolve(trainer.TrainOptions(model="pixelrnn", config="tiny", strategy="mirrored", jit_compile=True))


def test_flags_override_the_config():
    _, _, cfg = trainer._resolve(trainer.TrainOptions(model="pixelrnn", config="tiny", batch_size=3, learning_rate=0.5))
    assert (cfg.batch_size, cfg.learning_rate, cfg.epochs) == (3, 0.5, 1)


def test_checkpoint_cadence_comes_from_the_config_unless_a_flag_sets_it():
    # vae long170 meets its 30-minute budget only with one checkpoint per 500-step epoch.
    _, _, cfg = trainer._resolve(trainer.TrainOptions(model="vae", config="long170"))
    assert cfg.checkpoint_every == 500
    _, _, cfg = trainer._resolve(trainer.TrainOptions(model="vae", config="default"))
    assert cfg.checkpoint_every == 100
    _, _, cfg = trainer._resolve(trainer.TrainOptions(model="vae", config="long170", checkpoint_every=7))
    assert cfg.checkpoint_every == 7
    with pytest.raises(ValueError, match="checkpoint_every must be >= 1"):
        trainer._resolve(trainer.TrainOptions(model="vae", config="long170", checkpoint_every=0))


@pytest.mark.parametrize("name", ["pixelrnn", "row_lstm", "diagonal_bilstm", "pixelcnn"])
def test_a_pokemon_config_trains_on_flipped_pokemon_unless_told_otherwise(name):
    options, _, cfg = trainer._resolve(trainer.TrainOptions(model=name, config="pokemon"))
    assert options.dataset == "pokemon" and cfg.flip and cfg.model["dropout"] > 0
    assert options.workdir == f"runs/{name}-pokemon-pokemon"
    options, _, cfg = trainer._resolve(trainer.TrainOptions(model=name, config="pokemon", dataset="digits", flip=False))
    assert options.dataset == "digits" and not cfg.flip
    # Other configs keep the model's own dataset and no flips.
    options, _, cfg = trainer._resolve(trainer.TrainOptions(model=name, config="tiny"))
    assert options.dataset == registry.get(name).default_dataset and not cfg.flip


def test_model_args_override_the_configs_constructor_arguments():
    _, _, cfg = trainer._resolve(
        trainer.TrainOptions(
            model="pixelcnn", config="pokemon", model_args=("dropout=0.5", "units=64", "kernel_size=5")
        )
    )
    assert cfg.model == {
        **registry.get("pixelcnn").config("pokemon").model,
        "dropout": 0.5,
        "units": 64,
        "kernel_size": 5,
    }
    assert isinstance(cfg.model["units"], int)  # read as JSON, not kept as text
    _, _, same = trainer._resolve(trainer.TrainOptions(model="pixelcnn", config="pokemon", model_args={"dropout": 0.5}))
    assert same.model["dropout"] == 0.5


@pytest.mark.parametrize(
    "args, message",
    [
        (("dropuot=0.5",), "pixelcnn takes no argument dropuot; it takes colour_history, dropout, embedding_dim"),
        (("num_classes=3",), "takes no argument num_classes"),  # the dataset sets it
        (("dropout",), "'dropout' is not name=value"),
    ],
)
def test_model_args_the_model_does_not_take_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        trainer._resolve(trainer.TrainOptions(model="pixelcnn", config="pokemon", model_args=args))


def test_model_args_are_part_of_the_run_and_a_resume_must_repeat_them(tmp_path):
    options = dict(model="pixelcnn", config="tiny", dataset="digits", workdir=str(tmp_path), steps=1, export=False)
    options.update(num_previews=0, verbose=False)
    trainer.train(trainer.TrainOptions(**options, model_args=("units=4",)))
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["config"]["model"]["units"] == 4
    with pytest.raises(ValueError, match="holds a different run"):
        trainer.train(trainer.TrainOptions(**options, model_args=("units=5",)))
    with pytest.raises(ValueError, match=r"--model_args=dropout=2: dropout must be in \[0, 1\)"):
        trainer.train(trainer.TrainOptions(**dict(options, workdir=str(tmp_path / "b")), model_args=("dropout=2",)))
    # A refused run into a new workdir leaves nothing behind (not even the folder its lock made), so the
    # corrected command trains in the same workdir.
    assert not (tmp_path / "b").exists()
    trainer.train(trainer.TrainOptions(**dict(options, workdir=str(tmp_path / "b")), model_args=("dropout=0.5",)))


def test_repeated_model_args_flags_add_up_instead_of_the_last_one_winning():
    """`--model_args=a=1 --model_args=b=2` keeps both: absl's list flags keep only the last occurrence,
    which silently trained runs without the settings given first."""
    from absl import flags

    from tfgen.training import options

    values = flags.FlagValues()
    options.define_flags(values)
    values(["train", "--model_args=binary_pixels=threshold,units=3", "--model_args=spectral_norm=true", "--seed=4"])
    got = options.from_flags(values)
    assert got.model_args == ("binary_pixels=threshold", "units=3", "spectral_norm=true")
    assert options.parse_model_args(got.model_args) == {"binary_pixels": "threshold", "units": 3, "spectral_norm": True}
    values = flags.FlagValues()
    options.define_flags(values)
    values(["train"])
    assert options.from_flags(values).model_args == ()


@pytest.mark.parametrize(
    "model, previews, pictures",
    [
        ("pixelcnn", 0, set()),
        ("vae", 0, set()),
        ("pixelcnn", 2, {"progress/samples-epoch0001.png", "samples.png", "completions.png"}),
    ],
)
def test_no_previews_means_no_pictures_at_all(tmp_path, model, previews, pictures):
    """`--num_previews=0` says "write no pictures": neither the end-of-run previews nor the monitors'
    epoch grids (autoregressive models) and code map (latent models), whose sampling a timed run or a
    scripted one pays for at every epoch end."""
    options = dict(model=model, config="tiny", dataset="digits", workdir=str(tmp_path), steps=2, export=False)
    trainer.train(trainer.TrainOptions(**options, num_previews=previews, verbose=False))
    assert {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.png")} == pictures


def test_training_exports_every_tflite_variant_by_default():
    from tfgen.export import tflite

    assert trainer.TrainOptions().tflite_variants == tflite.VARIANTS
