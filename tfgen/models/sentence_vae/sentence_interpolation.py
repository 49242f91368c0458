"""Sentences decoded at evenly spaced points between the codes of two sentences."""

import numpy as np
import tensorflow as tf

from tfgen.errors import InvalidArgumentError

MAX_STEPS = 101
MAX_BEAM = 64


def check_options(steps, beam_width):
    if not 2 <= steps <= MAX_STEPS:
        raise InvalidArgumentError(f"steps must be in 2..{MAX_STEPS}, got {steps}")
    if not 1 <= beam_width <= MAX_BEAM:
        raise InvalidArgumentError(f"beam width must be in 1..{MAX_BEAM}, got {beam_width}")


def interpolate(model, first, second, steps=7, beam_width=5):
    """Rows (fraction, greedy sentence, beam sentence) from `first` (0) to `second` (1).

    Codes are the posterior means; the point at fraction f is (1 - f) a + f b.
    """
    check_options(steps, beam_width)
    mean, _ = model.posterior(tf.constant([first, second]))
    fractions = np.linspace(0.0, 1.0, steps, dtype=np.float32)
    codes = (1 - fractions[:, None]) * mean[0].numpy() + fractions[:, None] * mean[1].numpy()
    greedy = model.detokenize(tf.function(model.greedy_decode)(codes)).numpy()
    beam = model.detokenize(tf.function(model.beam_decode)(codes, beam_width)).numpy()
    return [(float(f), g.decode(), b.decode()) for f, g, b in zip(fractions, greedy, beam)]


def interpolate_workdir(workdir, first, second, steps=7, beam_width=5):
    from tfgen.training import workdir as wd

    check_options(steps, beam_width)  # before the model is loaded
    model, run, _ = wd.load_model(workdir)
    if run.data_spec.kind != "text":
        raise InvalidArgumentError(f"{workdir}: {run.model} does not model sentences")
    return interpolate(model, first, second, steps, beam_width)


def format_rows(rows, beam_width):
    lines = []
    for fraction, greedy, beam in rows:
        lines.append(f"{fraction:4.2f} greedy: {greedy}")
        lines.append(f"     beam {beam_width}: {beam}")
    return "\n".join(lines)
