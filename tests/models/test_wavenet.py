"""WaveNet: the block's two paths, the receptive field, the metrics and the sounds it writes.

The registry-wide tests (tests/models/test_conformance.py) already check
causality, fast == naive sampling, log_prob == one sample at a time, export
parity and resuming for `wavenet`.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import REPO, tiny
from tfgen import audio, registry
from tfgen.layers.wavenet_block import WaveNetBlock


@pytest.mark.parametrize("kernel_size, dilation", [(2, 1), (2, 4), (3, 2)])
def test_block_step_with_a_queue_equals_the_whole_sequence(kernel_size, dilation):
    block = WaveNetBlock(5, 3, 4, dilation, kernel_size)
    h = tf.random.stateless_normal([2, 17, 5], seed=[1, 2])
    block.build()
    for w in block.weights:  # non-zero biases, so the zero padding really is tested
        w.assign(tf.random.stateless_normal(w.shape, seed=[3, w.shape[-1]]) * 0.5)
    full_h, full_skip = block(h)
    queue = tf.zeros([2, block.queue_length, 5])
    assert block.queue_length == (kernel_size - 1) * dilation
    for t in range(17):
        step_h, step_skip, queue = block.step(h[:, t], queue)
        np.testing.assert_allclose(step_h, full_h[:, t], atol=1e-5, err_msg=f"position {t}")
        np.testing.assert_allclose(step_skip, full_skip[:, t], atol=1e-5, err_msg=f"position {t}")


def test_block_convolution_by_hand():
    """k = 2, d = 3, one channel everywhere: z_t = w0 h_{t-3} + w1 h_t + b, then tanh(a) sigmoid(b)."""
    block = WaveNetBlock(1, 1, 1, dilation=3)
    block.build()
    block.conv_kernel.assign(np.array([[[0.5, 1.0]], [[2.0, -1.0]]], np.float32))  # taps x (a, b)
    block.conv_bias.assign([0.1, 0.2])
    block.out_kernel.assign([[1.5, -2.0]])  # residual, skip
    block.out_bias.assign([0.0, 0.3])
    h = np.array([1.0, -1.0, 2.0, 0.5, 0.25, -0.5], np.float32)
    past = np.concatenate([np.zeros(3), h[:-3]])
    a, b = 0.5 * past + 2.0 * h + 0.1, 1.0 * past - 1.0 * h + 0.2
    gated = np.tanh(a) / (1 + np.exp(-b))
    new_h, skip = block(tf.constant(h[None, :, None]))
    np.testing.assert_allclose(new_h[0, :, 0], h + 1.5 * gated, rtol=1e-5)
    np.testing.assert_allclose(skip[0, :, 0], -2.0 * gated + 0.3, rtol=1e-5)


def test_a_dilated_block_trains_on_tensorflows_own_cpu_kernels():
    """Without oneDNN (TensorFlow's default on x86 CPUs without AVX-512), TF's CPU convolution has no
    gradient for a dilation above 1, so the block must not use one. A fresh process, since the switch
    is read when TensorFlow loads."""
    script = (
        "import tensorflow as tf\n"
        "from tfgen.layers.wavenet_block import WaveNetBlock\n"
        "block = WaveNetBlock(4, 3, 2, dilation=2)\n"
        "h = tf.random.stateless_normal([2, 9, 4], seed=[1, 2])\n"
        "with tf.GradientTape() as tape:\n"
        "    tape.watch(h)\n"
        "    out, skip = block(h)\n"
        "    loss = tf.reduce_sum(out) + tf.reduce_sum(skip)\n"
        "grads = tape.gradient(loss, [h, *block.trainable_weights])\n"
        "print('finite', all(bool(tf.reduce_all(tf.math.is_finite(g))) for g in grads))\n"
    )
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0")
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, env=env, timeout=300
    )
    assert proc.returncode == 0 and "finite True" in proc.stdout, proc.stderr[-3000:]


def test_receptive_field_is_exactly_what_the_logits_see():
    spec = registry.get("wavenet").cls.conformance_spec()
    model = tiny("wavenet")  # dilations 1, 2, 4: R = 1 + 1 + 2 + 4 = 8
    assert model.receptive_field == 8
    x = np.random.default_rng(0).integers(0, spec.num_classes, (1, 13))
    reference = model(x).numpy()
    t = 12
    for source in range(t):
        changed = x.copy()
        changed[0, source] = (changed[0, source] + 1) % spec.num_classes
        moved = np.abs(model(changed).numpy()[0, t] - reference[0, t]).max() > 1e-6
        assert moved == (source >= t - model.receptive_field), source


def test_evaluation_reports_bits_per_sample_and_nats_per_second():
    model = tiny("wavenet")
    x = registry.get("wavenet").cls.example_batch(model_spec := registry.get("wavenet").cls.conformance_spec(), 3)
    metrics = model.per_example_metrics(x)
    nll = -model.log_prob(x).numpy()
    np.testing.assert_allclose(metrics["nll"], nll, rtol=1e-6)
    np.testing.assert_allclose(metrics["bits_per_sample"], nll / (13 * np.log(2)), rtol=1e-6)
    np.testing.assert_allclose(metrics["nats_per_second"], nll / (13 / model_spec.sample_rate), rtol=1e-6)


def test_previews_are_sounds_and_spectrograms_and_completions_keep_the_first_half(tmp_path):
    model = tiny("wavenet")
    spec = registry.get("wavenet").cls.conformance_spec()
    examples = registry.get("wavenet").cls.example_batch(spec, 3, seed=4).numpy()
    previews = model.previews(examples, num_samples=2, seed=0)
    assert sorted(previews) == ["completion_0", "completion_1", "completions", "sample_0", "sample_1", "samples"]
    clip = previews["completion_1"]
    assert isinstance(clip, audio.Clip) and clip.sample_rate == 8000 and clip.samples.shape == (13,)
    # The known half is the example, decoded from mu-law.
    np.testing.assert_allclose(clip.samples[:6], audio.mu_law_decode(examples[1, :6], spec.num_classes))
    path = clip.write(tmp_path / "c.wav")
    np.testing.assert_array_equal(audio.read_wav(path, 8000)[0], audio.to_pcm(clip.samples))
    assert previews["samples"].dtype == np.uint8 and previews["samples"].ndim == 3
