"""Decoding a sentence VAE's codes into words: greedy, beam search, and interpolation between two sentences.

Each decoder runs as one `tf.while_loop` with fixed-shape buffers, so the
`sample` and `decode` signatures that use it convert to TFLite.
"""

import numpy as np
import tensorflow as tf

from tfgen.errors import InvalidArgumentError
from tfgen.models.sentence_vae.sentence_tokenizer import END

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
    greedy = model.detokenize(tf.function(model.greedy_decode, autograph=False)(codes)).numpy()
    beam = model.detokenize(tf.function(model.beam_decode, autograph=False)(codes, beam_width)).numpy()
    return [(float(f), g.decode(), b.decode()) for f, g, b in zip(fractions, greedy, beam)]


def format_rows(rows, beam_width):
    lines = []
    for fraction, greedy, beam in rows:
        lines.append(f"{fraction:4.2f} greedy: {greedy}")
        lines.append(f"     beam {beam_width}: {beam}")
    return "\n".join(lines)


def greedy_decode(model, codes):
    """Word ids [B, max_length] (0 after the end) of the most likely word at every step."""
    codes = tf.cast(codes, model.compute_dtype)
    batch = tf.shape(codes)[0]
    steps = model.max_length + 1
    code_gates = model.code_gates(codes)
    zeros = tf.zeros([batch, model.units], model.compute_dtype)

    def body(t, previous, h, c, done, buffer):
        log_probs, (h, c) = model.decoder_step(previous, (h, c), code_gates)
        word = tf.argmax(log_probs, axis=-1, output_type=tf.int32)
        word = tf.where(done, END, word)
        # A fixed-shape buffer written through a one-hot mask, not a
        # TensorArray: converts to a TFLite builtin WHILE, which a
        # TensorArray with a dynamic batch does not.
        buffer = buffer + tf.one_hot(t, steps, dtype=tf.int32)[None, :] * word[:, None]
        return t + 1, word, h, c, done | (word == END), buffer

    *_, buffer = tf.while_loop(
        lambda t, *_: t < steps,
        body,
        (
            tf.constant(0),
            tf.zeros([batch], tf.int32),
            zeros,
            zeros,
            tf.zeros([batch], tf.bool),
            tf.zeros([batch, steps], tf.int32),
        ),
    )
    return buffer[:, : model.max_length]


def beam_decode(model, codes, beam_width=5):
    """Word ids [B, max_length]: the best of `beam_width` hypotheses by log-probability per token.

    Finished hypotheses (END predicted) keep their score and stay in the
    beam; the last step forces END, so every hypothesis ends.
    """
    codes = tf.cast(codes, model.compute_dtype)
    batch = tf.shape(codes)[0]
    width, vocab, steps = int(beam_width), model.vocab_size, model.max_length + 1
    flat_batch = batch * width
    code_gates = tf.repeat(model.code_gates(codes), width, axis=0)  # [B*W, 4H]
    zeros = tf.zeros([flat_batch, model.units], model.compute_dtype)
    # Only the first beam is live at the start, so the first step's top
    # W come from distinct words rather than W copies of one.
    scores = tf.tile(tf.constant([[0.0] + [-1e9] * (width - 1)]), [batch, 1])
    end_only = tf.concat([tf.zeros([1]), tf.fill([vocab - 1], -1e9)], axis=0)

    def body(t, previous, h, c, scores, done, lengths, buffer):
        log_probs, (h, c) = model.decoder_step(previous, (h, c), code_gates)
        log_probs = tf.reshape(log_probs, [batch, width, vocab])
        last = tf.cast(t == steps - 1, tf.float32)
        log_probs = log_probs * (1 - last) + last * end_only  # the final step can only end
        done3 = tf.reshape(done, [batch, width, 1])
        log_probs = tf.where(done3, end_only, log_probs)
        total = tf.reshape(scores[..., None] + log_probs, [batch, width * vocab])
        scores, index = tf.math.top_k(total, k=width)
        parent, word = index // vocab, index % vocab
        flat_parent = tf.reshape(parent + tf.range(batch)[:, None] * width, [-1])
        h, c = tf.gather(h, flat_parent), tf.gather(c, flat_parent)
        buffer = tf.gather(tf.reshape(buffer, [flat_batch, steps]), flat_parent)
        was_done = tf.gather(done, flat_parent)
        lengths = tf.gather(lengths, flat_parent) + tf.cast(~was_done, tf.int32)
        word = tf.where(was_done, END, tf.reshape(word, [-1]))
        buffer = buffer + tf.one_hot(t, steps, dtype=tf.int32)[None, :] * word[:, None]
        return t + 1, word, h, c, scores, was_done | (word == END), lengths, buffer

    *_, scores, _, lengths, buffer = tf.while_loop(
        lambda t, *_: t < steps,
        body,
        (
            tf.constant(0),
            tf.zeros([flat_batch], tf.int32),
            zeros,
            zeros,
            scores,
            tf.zeros([flat_batch], tf.bool),
            tf.zeros([flat_batch], tf.int32),
            tf.zeros([flat_batch, steps], tf.int32),
        ),
    )
    per_token = scores / tf.cast(tf.reshape(lengths, [batch, width]), tf.float32)
    best = tf.argmax(per_token, axis=1, output_type=tf.int32)
    buffer = tf.reshape(buffer, [batch, width, steps])
    return tf.gather(buffer, best, batch_dims=1)[:, : model.max_length]
