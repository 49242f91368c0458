"""Sample from an exported .tflite model with ai-edge-litert, numpy and Pillow only.

    python tools/tflite_sample.py --model=export/tflite/pixelrnn/1/float32.tflite --num=16 --seed=0 --out=s.png

An audio model writes one WAV per clip beside --out (s-0.wav, ...) and their
spectrograms in --out.

This is the on-device path: it must not import TensorFlow (tested). With the
same --num and --seed it writes the same images as
`tools/sample.py --export_dir=<SavedModel version dir>`.
"""

from tfgen import cli, visualize
from tfgen.export.litert_runtime import TFLiteModel
from tfgen.export.metadata import generating_request


def main(argv=None):
    parser = cli.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help=".tflite file (tfgen.json beside it)")
    parser.add_argument("--num", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--signature", default=None, help="generating signature (default: the model's)")
    parser.add_argument("--out", default="samples.png")
    parser.add_argument(
        "--num_threads", type=int, default=None, help="interpreter threads (1 is fastest for one audio clip)"
    )
    args = parser.parse_args(argv)
    model = TFLiteModel(args.model, num_threads=args.num_threads)
    signature = args.signature or model.metadata["default_signature"]
    if args.signature is None and signature not in model.signature_names:
        signature = next(s for s in ("sample", "generate") if s in model.signature_names)
    inputs = generating_request(model.metadata, signature, args.num, args.seed, args.temperature)
    drawn = visualize.write_generated(args.out, model.run(signature, **inputs), model.metadata)
    what = "clips (WAV files beside it) and their spectrograms" if drawn.ndim == 2 else "images"
    print(f"wrote {len(drawn)} {what} to {args.out}")


def run():
    """Entry point of the `tfgen-tflite-sample` console script."""
    cli.run_plain(main)


if __name__ == "__main__":
    run()
