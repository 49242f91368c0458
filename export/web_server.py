"""Serves the sampling page (`web/`) and TFLite export directories on 127.0.0.1.

    /                         the page (web/index.html and its modules)
    /vendor/@litertjs/...     LiteRT.js and its WebAssembly (web/node_modules, `npm ci --prefix web`)
    /models.json              [{"name", "url", "metadata"}, ...]: one entry per export served
    /models/<i>/<file>        the files of the i-th export directory (tfgen.json, *.tflite)

Only those files are served: a path that resolves outside its root (`..`, a
symbolic link out) is refused with 404, as is anything not a regular file.
`.wasm` and `.tflite` get the MIME types browsers need (`application/wasm`
for streaming compilation). No TensorFlow: the server reads exports, it does
not run them.
"""

import io
import json
import mimetypes
import threading
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tfgen.errors import InvalidArgumentError, MissingFileError
from tfgen.export import layout
from tfgen.export import metadata as md

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
MIME_TYPES = {
    ".wasm": "application/wasm",
    ".tflite": "application/octet-stream",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css",
    ".png": "image/png",
}


def _is_tflite_version(path):
    return (path / md.METADATA_FILE).is_file() and any(path.glob("*.tflite"))


def _newest_version(path):
    versions = layout.versions(path)
    return path / str(versions[-1]) if versions else None


def find_exports(path):
    """The TFLite version directories under `path`.

    `path` is a version directory (tfgen.json and *.tflite), a model's
    directory (its newest version), or an export directory (the newest version
    of every model under its `tflite/`).
    """
    path = Path(path)
    if not path.is_dir():
        raise MissingFileError(f"{path}: no such directory")
    if _is_tflite_version(path):
        return [path]
    newest = _newest_version(path)
    if newest is not None and _is_tflite_version(newest):
        return [newest]
    if (path / "tflite").is_dir():
        found = [v for m in sorted((path / "tflite").iterdir()) if m.is_dir() for v in [_newest_version(m)] if v]
        found = [v for v in found if _is_tflite_version(v)]
        if found:
            return found
    raise MissingFileError(
        f"{path}: no TFLite export here (a directory with {md.METADATA_FILE} and a .tflite file, a model's "
        "directory of versions, or an export directory with tflite/); export one with tools/export.py"
    )


def describe(version_dir):
    """One models.json entry: the export's name and metadata (a corrupt tfgen.json is a one-line error)."""
    metadata = md.read(version_dir)
    return {"name": f"{metadata.get('model', version_dir.parent.name)}/{version_dir.name}", "metadata": metadata}


class Handler(SimpleHTTPRequestHandler):
    """GET and HEAD of the page, the vendored runtime, models.json and the exports' files."""

    def __init__(self, *args, roots, models_json, **kw):
        self.roots, self.models_json = roots, models_json
        super().__init__(*args, directory=str(WEB_ROOT), **kw)

    def log_message(self, format, *args):  # quiet: the page fetches many files
        pass

    def end_headers(self):
        # Cross-origin isolation lets LiteRT.js use its threaded WebAssembly (SharedArrayBuffer).
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def guess_type(self, path):
        return MIME_TYPES.get(Path(str(path)).suffix.lower()) or mimetypes.guess_type(str(path))[0] or "text/plain"

    def translate_path(self, path):
        """The file a URL names, or None when it is outside every root."""
        parts = [p for p in unquote(urlsplit(path).path).split("/") if p]
        if not parts:
            return WEB_ROOT / "index.html"
        if parts[0] == "vendor":
            root, rest = WEB_ROOT / "node_modules", parts[1:]
            if not rest or rest[0] != "@litertjs":
                return None
        elif parts[0] == "models" and len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(self.roots):
            root, rest = self.roots[int(parts[1])], parts[2:]
        elif parts[0] in ("models", "node_modules"):
            return None
        else:
            root, rest = WEB_ROOT, parts
        root = root.resolve()
        target = root.joinpath(*rest).resolve()
        if target != root and root not in target.parents:
            return None
        return target

    def send_head(self):
        if urlsplit(self.path).path == "/models.json":
            body = self.models_json
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)
        target = self.translate_path(self.path)
        if target is None or not target.is_file():
            self.send_error(HTTPStatus.NOT_FOUND, "not served here")
            return None
        f = open(target, "rb")  # noqa: SIM115 -- the base class closes it after copying
        size = target.stat().st_size
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(target))
        self.send_header("Content-Length", str(size))
        self.end_headers()
        return f


def make_server(export_dirs, port=0, host="127.0.0.1"):
    """A started-later ThreadingHTTPServer for the page and the exports found under `export_dirs`."""
    if not (WEB_ROOT / "node_modules" / "@litertjs" / "core").is_dir():
        raise MissingFileError(f"{WEB_ROOT / 'node_modules'}: LiteRT.js is not installed; run `npm ci --prefix web`")
    roots = [v for d in export_dirs for v in find_exports(d)]
    models = [{**describe(v), "url": f"/models/{i}/"} for i, v in enumerate(roots)]
    body = json.dumps(models).encode()
    try:
        server = ThreadingHTTPServer((host, port), partial(Handler, roots=roots, models_json=body))
    except OSError as e:  # the port is taken, or not ours to take
        raise InvalidArgumentError(f"cannot serve on {host}:{port}: {e.strerror or e}") from None
    server.models = models
    return server


def serve_in_thread(export_dirs, port=0):
    """Starts a server in a daemon thread; returns (server, base URL). Stop with `server.shutdown()`."""
    server = make_server(export_dirs, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return server, f"http://{host}:{port}/"
