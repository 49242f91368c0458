"""tf.distribute strategies by name, and who writes in a multi-worker run."""

import json
import os

import tensorflow as tf

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


def make_strategy(name, collective_timeout=300):
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if tf.config.list_logical_devices("GPU"):
            return tf.distribute.MirroredStrategy()
        # Without GPUs, mirror over the logical CPU devices (see configure_cpu_devices).
        return tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("--strategy=multi_worker needs TF_CONFIG (see docs/DISTRIBUTED.md)")
        # A timeout turns a dead peer into an error on the survivors instead of
        # a hang, so a cluster manager can restart them all from the checkpoint.
        options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=collective_timeout)
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")


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
