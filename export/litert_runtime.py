"""Run an exported .tflite model with ai-edge-litert only: the on-device path.

No TensorFlow import here or in anything this imports (a test checks it in
a subprocess). Requests are validated against the export's tfgen.json before
they reach the interpreter, with the same rules the SavedModel enforces in
its graph.
"""

from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from tfgen.errors import CorruptFileError, MissingFileError
from tfgen.export import metadata as md


class TFLiteModel:
    """A tfgen .tflite file with its metadata.

    Args:
        path: the .tflite file; tfgen.json is read from the same folder
            unless `metadata_path` is given.
        num_threads: interpreter threads.

    Example:
        >>> model = TFLiteModel("export/tflite/pixelrnn/1/float32.tflite")
        >>> images = model.run("sample", noise=noise, temperature=temps)["images"]
    """

    def __init__(self, path, metadata_path=None, num_threads=None):
        self.path = Path(path)
        if not self.path.is_file():
            raise MissingFileError(f"{self.path}: no such TFLite model")
        self.metadata = md.read(metadata_path or self.path.parent)
        try:
            self.interpreter = Interpreter(model_path=str(self.path), num_threads=num_threads)
        except ValueError as e:  # LiteRT's answer to a truncated or foreign file
            raise CorruptFileError(f"{self.path}: not a readable TFLite model ({e})") from None
        self._runners = {}

    @property
    def signature_names(self):
        return sorted(self.interpreter.get_signature_list())

    def run(self, signature, **inputs):
        checked = md.validate_inputs(self.metadata, signature, inputs)
        if signature not in self.interpreter.get_signature_list():
            raise md.RequestError(f"{signature!r} is not in this TFLite model ({', '.join(self.signature_names)})")
        if signature not in self._runners:
            self._runners[signature] = self.interpreter.get_signature_runner(signature)
        return {k: np.asarray(v) for k, v in self._runners[signature](**checked).items()}
