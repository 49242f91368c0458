"""Keeping the best checkpoint and stopping early (issue 20): which one is kept, who uses it, what survives a crash."""

import json
import time

import keras
import numpy as np
import pytest

from tfgen.evaluation import likelihood
from tfgen.training import trainer
from tfgen.training import workdir as wd


class Validations(keras.callbacks.Callback):
    """Records (step, validation nll) at every epoch end."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append((int(logs["step"]), float(logs["val_nll"])))


def options(workdir, **changes):
    # Batches of 512 digits: 3 steps an epoch, so several epochs take seconds.
    base = dict(
        model="pixelrnn",
        config="tiny",
        dataset="digits",
        workdir=str(workdir),
        batch_size=512,
        num_previews=0,
        export=False,
        verbose=False,
    )
    return trainer.TrainOptions(**{**base, **changes})


class Scramble(keras.callbacks.Callback):
    """Adds noise to every weight at the end of one epoch: the scores after it are worse than before."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 2:
            rng = np.random.default_rng(0)
            for w in self.model.trainable_weights:
                w.assign(w.numpy() + rng.normal(0, 0.5, w.shape).astype(np.float32))


def test_the_best_validation_score_is_kept_and_used_by_default(tmp_path):
    seen = Validations()
    summary = trainer.train(options(tmp_path, epochs=6, learning_rate=0.01, callbacks=(seen, Scramble())))
    steps, values = zip(*seen.seen)
    assert len(steps) == 6
    best = int(np.argmin(values))
    assert best == 2 and values[-1] > values[best], values
    record = wd.read_best(tmp_path)
    assert record["step"] == steps[best] and record["value"] == pytest.approx(values[best])
    assert summary["best"] == record and not summary["stopped_early"]
    # Evaluation uses the best weights by default and says so; --checkpoint=latest the newest.
    said = []
    _, _, step = wd.load_model(tmp_path, log=said.append)
    assert step == steps[best] and "using the best checkpoint" in said[0]
    assert likelihood.evaluate_workdir(tmp_path)["nll"] == pytest.approx(values[best], rel=1e-5)
    assert likelihood.evaluate_workdir(tmp_path, checkpoint="latest")["nll"] == pytest.approx(values[-1], rel=1e-5)
    # Only one best checkpoint is on disk.
    assert [p.name for p in tmp_path.glob("best-*")] == [f"best-{steps[best]:08d}"]


def test_early_stopping_stops_after_patience_epochs_without_improvement(tmp_path):
    seen = Validations()
    # A zero learning rate never improves on the first epoch's score.
    summary = trainer.train(options(tmp_path, epochs=10, learning_rate=0.0, early_stopping=2, callbacks=(seen,)))
    assert [s for s, _ in seen.seen] == [3, 6, 9]
    assert summary["steps"] == 9 and summary["stopped_early"] and summary["best"]["step"] == 3


class Clock(keras.callbacks.Callback):
    """Makes every epoch take at least `seconds` of wall time; records when training began and each epoch ended."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds, self.began, self.ends = seconds, None, []

    def on_train_begin(self, logs=None):
        self.began = time.time()

    def on_epoch_end(self, epoch, logs=None):
        time.sleep(self.seconds)
        self.ends.append(time.time())


def test_a_time_budget_stops_at_the_first_epoch_end_after_it(tmp_path):
    clock, budget = Clock(1.5), 8.0
    summary = trainer.train(options(tmp_path, epochs=20, max_minutes=budget / 60, callbacks=(clock,)))
    used = [end - clock.began for end in clock.ends]
    assert len(used) < 20, used
    # Every epoch before the last ended inside the budget, the last one past it. The callback's clock
    # reads a little before the trainer's (which follows the epoch's checkpoint), hence the allowance;
    # an epoch takes at least 1.5 s, so stopping one epoch early would miss it.
    assert all(t < budget + 0.1 for t in used[:-1]) and used[-1] >= budget - 1.0, used
    assert summary["steps"] == 3 * len(used) and summary["out_of_time"] and not summary["stopped_early"]


@pytest.mark.parametrize("changes", [dict(max_minutes=0.0), dict(max_minutes=5.0, strategy="multi_worker")])
def test_a_time_budget_that_cannot_work_is_refused(tmp_path, changes):
    from tfgen.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="max_minutes"):
        trainer.train(options(tmp_path, **changes))


def test_a_crash_while_writing_a_new_best_leaves_the_old_one_usable(tmp_path):
    trainer.train(options(tmp_path, epochs=2, learning_rate=0.05))
    record = wd.read_best(tmp_path)
    # What a crash between writing the files and the record leaves: a newer, partial best folder.
    partial = tmp_path / "best-00000099"
    partial.mkdir()
    (partial / "ckpt.index").write_bytes(b"half")
    _, _, step = wd.load_model(tmp_path, log=lambda m: None)
    assert step == record["step"]
    # A damaged record costs the best checkpoint, never the run: the newest is used.
    (tmp_path / wd.BEST_FILE).write_text("{not json")
    assert wd.read_best(tmp_path) is None
    assert wd.load_model(tmp_path)[2] == 6
    json.loads((tmp_path / "run.json").read_text())  # untouched


@pytest.mark.parametrize("flip", [None, False])
def test_a_configs_flip_reaches_the_training_pipeline_unless_turned_off(tmp_path, monkeypatch, pokemon_dir, flip):
    from tfgen.data import pipeline

    seen, original = [], pipeline.train_batches

    def spy(*args, **kwargs):
        seen.append(kwargs["flip"])
        return original(*args, **kwargs)

    monkeypatch.setattr(pipeline, "train_batches", spy)
    # `pokemon` names its dataset and flips; --noflip (flip=False) turns that off.
    summary = trainer.train(
        options(
            tmp_path,
            model="pixelcnn",
            config="pokemon",
            dataset=None,
            data_dir=str(pokemon_dir),
            steps=1,
            batch_size=8,
            flip=flip,
        )
    )
    assert summary["dataset"] == "pokemon" and seen == [flip is None]
