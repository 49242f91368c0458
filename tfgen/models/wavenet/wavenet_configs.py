"""Named configs of WaveNet (`tools/train.py --model=wavenet --config=NAME`).

`default`: sized to 60 budget minutes on the speech data (docs/RESULTS.md,
"WaveNet on recorded speech"); two stacks of dilations 1..512 (a receptive
field of 2,047 samples, a quarter second at 8 kHz).
`small`: one stack of dilations 1..256: a shorter memory, cheaper to train and
to sample on a device.
`tiny`: for tests, runs in seconds.
"""

from tfgen.registry import Config


def _dilations(stacks, layers):
    return [2**i for i in range(layers)] * stacks


CONFIGS = {
    "default": Config(
        model=dict(
            dilations=_dilations(2, 10),
            residual_channels=32,
            dilation_channels=32,
            skip_channels=128,
            output_channels=128,
        ),
        batch_size=8,
        learning_rate=1e-3,
        epochs=30,
        jit_compile=True,
        checkpoint_every=500,
        description="2 stacks of dilations 1..512, 32 residual and 128 skip channels (30 epochs: 60 budget min)",
    ),
    "small": Config(
        model=dict(
            dilations=_dilations(1, 9),
            residual_channels=32,
            dilation_channels=32,
            skip_channels=64,
            output_channels=64,
        ),
        batch_size=8,
        learning_rate=1e-3,
        epochs=20,
        jit_compile=True,
        checkpoint_every=500,
        description="1 stack of dilations 1..256, 32 residual and 64 skip channels",
    ),
    "tiny": Config(
        model=dict(dilations=[1, 2, 4], residual_channels=8, dilation_channels=8, skip_channels=16, output_channels=32),
        batch_size=4,
        learning_rate=3e-2,
        epochs=1,
        description="for tests: three blocks of 8 channels (a receptive field of 8 samples)",
    ),
}
