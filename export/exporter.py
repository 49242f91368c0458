"""Exports a model in every requested format (`tfgen.training.workdir.export` exports a run).

One version number is shared by the SavedModel and the TFLite files of an
export, and both are published atomically (see `export.layout`).
"""

import dataclasses
import time
from pathlib import Path

from tfgen.errors import ExistingFileError, InvalidArgumentError, UnknownNameError
from tfgen.export import layout, saved_model, tflite
from tfgen.export import metadata as md

FORMATS = ("saved_model", "tflite")
DEFAULT_MAX_BATCH = 256


@dataclasses.dataclass
class ExportResult:
    version: int
    saved_model: Path | None
    tflite: dict
    metadata: dict


def build_metadata(model, run, version, max_batch, step=None):
    signatures = model.signatures()
    data = run.data_spec
    # What a client needs to turn outputs into something a person reads: the
    # palette of images, the words of text, the rate of audio.
    if data.kind == "text":
        kind_fields = {"vocabulary": list(data.vocabulary), "max_length": data.max_length}
    elif data.kind == "audio":
        kind_fields = {"sample_rate": data.sample_rate, "encoding": "mu-law"}
    else:
        kind_fields = {"image_shape": list(data.image_shape), "palette": data.palette.tolist()}
    return {
        "model": run.model,
        "config": run.config_name,
        "family": model.family,
        "dataset": run.dataset,
        "kind": data.kind,
        "example_shape": list(data.example_shape),
        "num_classes": data.num_classes,
        "max_batch": int(max_batch),
        "version": int(version),
        "step": step,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "default_signature": model.default_signature,
        "signatures": {s.name: s.metadata() for s in signatures},
        **kind_fields,
    }


def check_options(formats=FORMATS, max_batch=DEFAULT_MAX_BATCH, variants=tflite.VARIANTS):
    """Refuses unknown formats or TFLite variants and an out-of-range max_batch, before any work."""
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise UnknownNameError(f"unknown export formats {sorted(unknown)}; choose from {', '.join(FORMATS)}")
    if not formats:
        raise InvalidArgumentError(f"no export formats given; choose from {', '.join(FORMATS)}")
    unknown = set(variants) - set(tflite.VARIANTS)
    if unknown:
        raise UnknownNameError(f"unknown TFLite variants {sorted(unknown)}; choose from {', '.join(tflite.VARIANTS)}")
    if "tflite" in formats and not variants:
        raise InvalidArgumentError(f"no TFLite variants given; choose from {', '.join(tflite.VARIANTS)}")
    if not 1 <= max_batch <= 1 << 16:
        raise InvalidArgumentError(f"max_batch must be in 1..65536, got {max_batch}")


def export_model(
    model,
    run,
    export_dir,
    formats=FORMATS,
    version=None,
    max_batch=DEFAULT_MAX_BATCH,
    variants=tflite.VARIANTS,
    step=None,
    serving_base_path=None,
):
    check_options(formats, max_batch, variants)
    export_dir = Path(export_dir)
    name = run.model
    sm_base, tfl_base = export_dir / name, export_dir / "tflite" / name
    version = int(version) if version is not None else layout.next_version(sm_base, tfl_base)
    for fmt, base in (("saved_model", sm_base), ("tflite", tfl_base)):
        if fmt in formats and (base / str(version)).exists():  # checked again when publishing
            raise ExistingFileError(f"{base / str(version)} already exists; export a new --version")
    meta = build_metadata(model, run, version, max_batch, step)
    result = ExportResult(version, None, {}, meta)
    if "saved_model" in formats:
        result.saved_model = saved_model.export(model, sm_base, version, name, meta, max_batch)
        layout.write_models_config(export_dir, serving_base_path)
    if "tflite" in formats:
        with layout.atomic_version_dir(tfl_base, version) as tmp:
            tflite.convert(model, tmp, max_batch, variants, saved_model_dir=result.saved_model)
            md.write(tmp / md.METADATA_FILE, meta | {"tflite_variants": list(variants)})
        final = tfl_base / str(version)
        result.tflite = {v: final / f"{v}.tflite" for v in variants}
    return result
