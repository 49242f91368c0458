"""Query a TF Serving server hosting a tfgen export, and save the images.

    # REST (port 8501) or gRPC (port 8500):
    python tools/serve_client.py --metadata=models/pixelrnn/1 --rest=localhost:8501 --num=8 --out=s.png
    python tools/serve_client.py --metadata=models/pixelrnn/1 --grpc=localhost:8500 --num=8 --out=s.png
    # print the REST request body instead of sending it:
    python tools/serve_client.py --metadata=models/pixelrnn/1 --dry_run --num=2

--metadata is the export's version directory (or its tfgen.json): it gives
the signature's inputs, the palette and the model name.
"""

import json

from absl import app, flags

from tfgen import cli, visualize
from tfgen.export import client
from tfgen.export import metadata as md

FLAGS = flags.FLAGS
flags.DEFINE_string("metadata", None, "Export version dir or tfgen.json.", required=True)
flags.DEFINE_string("rest", None, "host:port of the REST API.")
flags.DEFINE_string("grpc", None, "host:port of the gRPC API.")
flags.DEFINE_bool("dry_run", False, "Print the REST request body and exit.")
flags.DEFINE_string("signature", None, "Generating signature (default: the export's default).")
flags.DEFINE_integer("num", 8, "Images to request.")
flags.DEFINE_integer("seed", 0, "Noise seed.")
flags.DEFINE_float("temperature", 1.0, "Sampling temperature.")
flags.DEFINE_integer("version", None, "Model version to ask for (default: the server's latest).")
flags.DEFINE_string("out", "served.png", "PNG to write.")


def main(argv):
    del argv
    meta = md.read(FLAGS.metadata)
    signature = FLAGS.signature or meta["default_signature"]
    inputs = md.generating_request(meta, signature, FLAGS.num, FLAGS.seed, FLAGS.temperature)
    outputs = list(meta["signatures"][signature]["outputs"])
    if FLAGS.dry_run:
        print(json.dumps(client.rest_body(signature, inputs)))
        return
    if FLAGS.rest:
        result = client.post_rest(FLAGS.rest, meta["model"], signature, inputs, outputs, FLAGS.version)
    elif FLAGS.grpc:
        request = client.grpc_request(meta["model"], signature, inputs, FLAGS.version)
        result = client.call_grpc(FLAGS.grpc, request)
    else:
        raise app.UsageError("give --rest=HOST:PORT, --grpc=HOST:PORT or --dry_run")
    visualize.save_png(FLAGS.out, visualize.grid(visualize.render_export(result["images"], meta)))
    print(f"wrote {len(result['images'])} images to {FLAGS.out}")


def run():
    """Entry point of the `tfgen-serve-client` console script."""
    cli.run(main)


if __name__ == "__main__":
    run()
