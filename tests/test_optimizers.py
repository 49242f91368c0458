"""tfgen's fused Adam and AdamW take Keras's steps, keep Keras's slots, and put one op per variable in a graph."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import trackable_object_graph_pb2

from tests.helpers import batch_for, tiny
from tfgen import optimizers, registry

SHAPES = [(3, 5), (5,), (2, 3, 4)]


def run_steps(optimizer, steps=6, graph=True, seed=0):
    """Weights and slots after `steps` updates of fixed variables by fixed gradients."""
    rng = np.random.default_rng(seed)
    variables = [keras.Variable(rng.normal(size=s).astype("float32"), name=f"w{i}") for i, s in enumerate(SHAPES)]
    grads = [[tf.constant(rng.normal(size=s).astype("float32")) for s in SHAPES] for _ in range(steps)]
    optimizer.build(variables)

    def apply(gradients):
        optimizer.apply(gradients, variables)

    if graph:
        apply = tf.function(apply, autograph=False)
        graph = apply.get_concrete_function([tf.zeros(s) for s in SHAPES]).graph.as_graph_def()
        # Every op, those of functions inside it too (a loss-scaled update runs in a tf.cond branch).
        ops = [n.op for n in graph.node] + [n.op for f in graph.library.function for n in f.node_def]
        inner = getattr(optimizer, "inner_optimizer", optimizer)
        if isinstance(inner, optimizers.Adam) and not inner.amsgrad:  # the fused path is the one these steps take
            assert ops.count("ResourceApplyAdam") == len(variables), ops
    for g in grads:
        apply(g)
    # Paths without the optimizer's own name, which Keras numbers per instance (adam_1, adam_2, ...).
    return [v.numpy() for v in variables], {v.path.split("/", 1)[1]: v.numpy() for v in optimizer.variables}


CASES = {
    "adam": lambda cls: cls(1e-2),
    "betas and epsilon": lambda cls: cls(3e-3, beta_1=0.5, beta_2=0.9, epsilon=1e-4),
    "global clipnorm": lambda cls: cls(1e-2, global_clipnorm=0.5),
    "schedule": lambda cls: cls(keras.optimizers.schedules.CosineDecay(1e-2, decay_steps=5)),
    # What the trainer wraps an optimizer in under a float16 policy (precision.wrap_optimizer).
    "loss scaled": lambda cls: keras.optimizers.LossScaleOptimizer(cls(1e-2)),
}


@pytest.mark.parametrize("graph", [True, False], ids=["tf.function", "eager"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_fused_adam_takes_keras_steps(case, graph):
    want_weights, want_slots = run_steps(CASES[case](keras.optimizers.Adam), graph=graph)
    got_weights, got_slots = run_steps(CASES[case](optimizers.Adam), graph=graph)
    assert list(got_slots) == list(want_slots)  # the same checkpointed variables, by path
    # The same formula in another order of rounding: float32 rounding over 6 steps of size ~lr.
    for got, want in zip(got_weights + list(got_slots.values()), want_weights + list(want_slots.values())):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
    # A wrong bias correction or moment update is off by far more than that: the weights moved by ~lr a step.
    start, _ = run_steps(CASES[case](keras.optimizers.Adam), steps=0)
    assert max(np.abs(w - s).max() for w, s in zip(got_weights, start)) > 1e-3


def test_fused_adamw_decays_weights_as_keras_does():
    want, _ = run_steps(keras.optimizers.AdamW(1e-2, weight_decay=0.5))
    got, _ = run_steps(optimizers.AdamW(1e-2, weight_decay=0.5))
    plain, _ = run_steps(optimizers.Adam(1e-2))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6)
    assert max(np.abs(g - p).max() for g, p in zip(got, plain)) > 1e-4  # the decay took effect


def test_amsgrad_falls_back_to_keras_update():
    want, _ = run_steps(keras.optimizers.Adam(1e-2, amsgrad=True))
    got, _ = run_steps(optimizers.Adam(1e-2, amsgrad=True))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def checkpoint_objects(path):
    """The object graph a checkpoint file records: (node count, every saved attribute's name)."""
    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    graph.ParseFromString(tf.train.load_checkpoint(path).get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    return len(graph.nodes), sorted(a.checkpoint_key for node in graph.nodes for a in node.attributes)


def test_checkpoints_are_keras_adams_both_ways(tmp_path):
    keras_adam, fused = keras.optimizers.Adam(1e-2), optimizers.Adam(1e-2)
    run_steps(keras_adam, steps=3)
    run_steps(fused, steps=3)  # after updates, so that nothing an update leaves behind is saved
    for name, opt in (("keras", keras_adam), ("fused", fused)):
        tf.train.Checkpoint(optimizer=opt).write(str(tmp_path / name))
    assert checkpoint_objects(str(tmp_path / "fused")) == checkpoint_objects(str(tmp_path / "keras"))
    restored = optimizers.Adam(1e-2)
    run_steps(restored, steps=0)
    tf.train.Checkpoint(optimizer=restored).read(str(tmp_path / "keras")).assert_consumed()
    for a, b in zip(restored.variables, keras_adam.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_a_models_train_step_updates_each_variable_with_one_op():
    model = tiny("pixelrnn")
    model.compile(**model.make_optimizers(registry.get("pixelrnn").config("tiny").learning_rate))
    graph = tf.function(model.train_step, autograph=False).get_concrete_function(batch_for(model, 8)).graph
    types = [op.type for op in graph.get_operations()]
    assert types.count("ResourceApplyAdam") == len(model.trainable_variables)
    assert types.count("Pow") == 2  # the bias corrections, once per update, not once per variable
