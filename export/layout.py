"""TF Serving's directory layout, written atomically, and models.config.

    <export_dir>/<model_name>/<version>/saved_model.pb, variables/, assets.extra/
    <export_dir>/tflite/<model_name>/<version>/{float32,float16,int8}.tflite, tfgen.json
    <export_dir>/models.config

A version is assembled in a hidden sibling directory (`.tmp-<version>-...`)
and renamed into place only when complete. TF Serving only loads directories
whose names are integers, so a crash mid-export leaves nothing it would pick
up, and the next export removes the leftovers.
"""

import os
import re
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

from tfgen.errors import ExistingFileError

TMP_PREFIX = ".tmp-"


def versions(base):
    base = Path(base)
    if not base.is_dir():
        return []
    return sorted(int(p.name) for p in base.iterdir() if p.is_dir() and re.fullmatch(r"\d+", p.name))


def next_version(*bases):
    return max([0, *[v for b in bases for v in versions(b)]]) + 1


def remove_stale(base):
    base = Path(base)
    if base.is_dir():
        for p in base.iterdir():
            if p.name.startswith(TMP_PREFIX):
                shutil.rmtree(p, ignore_errors=True)


@contextmanager
def atomic_version_dir(base, version):
    """Yields a temporary directory that becomes <base>/<version> on success.

    Raises ExistingFileError (a FileExistsError) if that version already exists: versions are
    immutable once published (a server may have loaded it).
    """
    base = Path(base)
    final = base / str(int(version))
    if final.exists():
        raise ExistingFileError(f"{final} already exists; export a new --version")
    base.mkdir(parents=True, exist_ok=True)
    remove_stale(base)
    tmp = base / f"{TMP_PREFIX}{int(version)}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
        _fsync_tree(tmp)
        os.rename(tmp, final)  # atomic on one filesystem; fails if final appeared meanwhile
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _fsync_tree(root):
    for dirpath, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as f:
                os.fsync(f.fileno())


def write_models_config(export_dir, base_path=None):
    """Writes <export_dir>/models.config listing every model with a SavedModel version.

    Args:
        base_path: the path the server sees export_dir under (e.g. /models in
            the tensorflow/serving container); defaults to export_dir itself.
    """
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    export_dir = Path(export_dir)
    base_path = str(base_path or export_dir.resolve())
    config = model_server_config_pb2.ModelServerConfig()
    for model_dir in sorted(p for p in export_dir.iterdir() if p.is_dir() and p.name != "tflite"):
        if versions(model_dir):
            entry = config.model_config_list.config.add()
            entry.name = model_dir.name
            entry.base_path = f"{base_path.rstrip('/')}/{model_dir.name}"
            entry.model_platform = "tensorflow"
    path = export_dir / "models.config"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text_format.MessageToString(config))
    tmp.replace(path)
    return path
