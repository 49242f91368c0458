"""tf.distribute strategies by name, and who writes in a multi-worker run."""

import functools
import json
import os

import tensorflow as tf

from tfgen.errors import InvalidArgumentError

STRATEGIES = ("default", "mirrored", "multi_worker")


def configure_cpu_devices(count):
    """Splits the CPU into `count` logical devices (for MirroredStrategy without GPUs).

    Must run before TensorFlow initialises its runtime (before the first op).
    """
    cpus = tf.config.list_physical_devices("CPU")
    current = tf.config.get_logical_device_configuration(cpus[0])
    if count <= 1 and not current:
        return
    if current and len(current) == count:
        return
    try:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError as e:
        raise RuntimeError(
            f"cannot split the CPU into {count} devices after TensorFlow has started; "
            "pass --num_cpu_devices on the command line of a fresh process"
        ) from e


def make_strategy(name, startup_timeout=600):
    """The named strategy. Multi-worker collectives start with `startup_timeout` seconds.

    The first step of a run (tracing, graph optimisation, XLA) and the model
    build take very different times on different workers; a short timeout
    there would kill a healthy cluster. `set_collective_timeout` tightens it
    once every worker has finished its first step.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        # Without GPUs, mirror over the logical CPU devices (see configure_cpu_devices).
        return _mirrored(tuple(d.name for d in devices))
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise InvalidArgumentError("--strategy=multi_worker needs TF_CONFIG (see docs/DISTRIBUTED.md)")
        options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=startup_timeout)
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    raise InvalidArgumentError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")


@functools.cache
def _mirrored(devices):
    # One instance per process and device set: a second MirroredStrategy in the
    # same process numbers its collectives from where the first began, and
    # their all-reduces collide; one instance serves any number of trainings.
    return tf.distribute.MirroredStrategy(list(devices))


def set_collective_timeout(strategy, seconds):
    """Sets the timeout of the collectives in functions traced from now on.

    A timeout turns a dead or hung peer into an error on the survivors
    instead of a hang, so a cluster manager can restart them all from the
    checkpoint. The timeout is an attribute of each collective op, fixed when
    a function is traced, so callers retrace their step function afterwards.
    TF has no public setter: every all-reduce of the strategy merges its
    options with `extended._communication_options`, which is what this sets.
    """
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return
    extended = strategy.extended
    timeout = tf.distribute.experimental.CommunicationOptions(timeout_seconds=seconds)
    extended._communication_options = extended._communication_options.merge(timeout)


def barrier(strategy, timeout):
    """Waits (up to `timeout` seconds) until every worker reaches this call.

    Placed after local work of unpredictable length (tracing, validation,
    checkpoint writing), so that the step timeout measures the steps alone.
    """
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeout)

    def replica_fn():
        ctx = tf.distribute.get_replica_context()
        return ctx.all_reduce(tf.distribute.ReduceOp.SUM, tf.ones([]), options=options)

    strategy.run(replica_fn)


def task_info():
    """(task_type, task_id) from TF_CONFIG, or ("chief", 0) without one."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}"))
    task = config.get("task", {})
    return task.get("type", "chief"), int(task.get("index", 0))


def is_chief(strategy):
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    task_type, task_id = task_info()
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    # Without an explicit chief, worker 0 plays the chief (TF's convention).
    if "chief" in cluster:
        return task_type == "chief"
    return task_type == "worker" and task_id == 0
