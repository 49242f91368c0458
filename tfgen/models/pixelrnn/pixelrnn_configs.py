"""Named configs for PixelRNN (`tools/train.py --model=pixelrnn --config=NAME`)."""

from tfgen.registry import Config

CONFIGS = {
    "default": Config(
        model=dict(units=512, num_layers=1),
        batch_size=64,
        learning_rate=2e-3,
        # 25 epochs of the embedded digits keep the quickstart under 5 minutes on
        # 2 cores; the Pokemon sprites want ~80 (--epochs=80, see docs/RESULTS.md).
        epochs=25,
        # XLA over the whole train step: 1.13-1.17x the examples/s without it on
        # 2 cores (docs/RESULTS.md, strategies table); off under mirrored and
        # multi-worker, where XLA cannot compile the step.
        jit_compile=True,
        description="the exercise's model: 1 LSTM layer, 512 cells",
    ),
    "small": Config(
        model=dict(units=128, num_layers=1),
        batch_size=64,
        learning_rate=3e-3,
        epochs=40,
        jit_compile=True,  # 1.15x, as for `default`
        description="128 cells, for quick experiments",
    ),
    "pokemon": Config(
        # The default overfits the 668 sprites after ~60 epochs (docs/RESULTS.md): dropout on the
        # LSTM's output, decoupled weight decay, mirrored sprites, and the best epoch kept.
        model=dict(units=512, num_layers=1, dropout=0.3, weight_decay=0.01),
        batch_size=64,
        learning_rate=2e-3,
        # 95 epochs filled 20 budget minutes; the best validation came at epoch 82 (docs/RESULTS.md).
        epochs=95,
        early_stopping=20,
        jit_compile=True,
        dataset="pokemon",
        flip=True,
        description="the exercise's model regularised for the sprites: 20 budget minutes (docs/RESULTS.md)",
    ),
    "tiny": Config(
        model=dict(units=16, num_layers=2),
        batch_size=8,
        learning_rate=1e-2,
        epochs=1,
        description="for tests: two 16-cell layers so stacking is exercised",
    ),
}
