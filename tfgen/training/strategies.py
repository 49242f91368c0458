"""tf.distribute strategies by name, and who writes in a multi-worker run."""

import json
import os

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker")


def make_strategy(name):
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("--strategy=multi_worker needs TF_CONFIG (see docs/DISTRIBUTED.md)")
        return tf.distribute.MultiWorkerMirroredStrategy()
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
