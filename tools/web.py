"""Serve the sampling page and TFLite exports on 127.0.0.1, for a browser.

    npm ci --prefix web        # once: LiteRT.js, the page's only dependency
    python tools/web.py --export_dir=export --port=8000

then open http://127.0.0.1:8000/. --export_dir is a TFLite version directory
(tfgen.json and *.tflite), a model's directory of versions (the newest is
served) or a whole export directory (every model's newest version); repeat it
to serve several.
"""

from tfgen import cli
from tfgen.export import web_server


def main(argv=None):
    parser = cli.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export_dir", action="append", required=True, help="export to serve (repeatable)")
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (0: any free port)")
    args = parser.parse_args(argv)
    server = web_server.make_server(args.export_dir, args.port)
    host, port = server.server_address[:2]
    print(f"serving {len(server.models)} model(s) on http://{host}:{port}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def run():
    cli.run_plain(main)


if __name__ == "__main__":
    run()
