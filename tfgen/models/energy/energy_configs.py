"""Named configs for the energy model (`tools/train.py --model=energy --config=NAME`)."""

from tfgen.registry import Config

CONFIGS = {
    "default": Config(
        model=dict(channels=[32, 64], langevin_steps=20, sample_steps=60, buffer_size=2000),
        batch_size=64,
        learning_rate=1e-4,
        epochs=40,
        description="IGEBM-style energy model; 20 Langevin steps per training step",
    ),
    "tiny": Config(
        model=dict(channels=[16, 16], langevin_steps=10, sample_steps=6, step_size=1.0, buffer_size=16),
        batch_size=8,
        learning_rate=1e-2,
        epochs=1,
        description="for tests",
    ),
}
