"""Named configs for DCGAN and GRAN (`tools/train.py --model=dcgan --config=NAME`).

Lists, not tuples: a run's identity is compared with its run.json, where a
tuple comes back as a list.
"""

from tfgen.registry import Config

DCGAN_CONFIGS = {
    "default": Config(
        model=dict(latent_dim=64, generator_channels=[128, 64], discriminator_channels=[64, 128]),
        batch_size=64,
        learning_rate=2e-4,
        epochs=6,
        description="DCGAN sized for binarized MNIST 28x28 in about 30 CPU minutes (2 cores)",
    ),
    "tiny": Config(
        model=dict(latent_dim=8, generator_channels=[16, 8], discriminator_channels=[8, 16], d_steps=2),
        batch_size=8,
        learning_rate=2e-3,
        epochs=1,
        description="for tests: two discriminator steps per generator step",
    ),
}

GRAN_CONFIGS = {
    "default": Config(
        model=dict(steps=3, latent_dim=64, hidden_dim=128, generator_channels=[128, 64], encoder_channels=[32, 64]),
        batch_size=64,
        learning_rate=2e-4,
        epochs=4,
        description="GRAN with T=3 sized for binarized MNIST 28x28 in about 30 CPU minutes (2 cores)",
    ),
    "tiny": Config(
        model=dict(
            steps=2,
            latent_dim=8,
            hidden_dim=8,
            generator_channels=[16, 8],
            encoder_channels=[4],
            discriminator_channels=[8, 16],
            d_steps=2,
        ),
        batch_size=8,
        learning_rate=2e-3,
        epochs=1,
        description="for tests",
    ),
}
