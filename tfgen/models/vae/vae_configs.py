"""Named configs for the VAE (`tools/train.py --model=vae --config=NAME`)."""

from tfgen.registry import Config

# The convolutional VAE for binarized MNIST; the variants below change one or two
# things about it and nothing else (their measurements: docs/RESULTS.md).
_CONV = dict(
    architecture="conv",
    conv_channels=(32, 64),
    hidden_units=(256,),
    latent_dim=32,
    learning_rate_decay="cosine",  # annealed over the whole run, however long
)

CONFIGS = {
    "default": Config(
        model=dict(_CONV),
        batch_size=100,
        learning_rate=1e-3,
        epochs=80,
        description="convolutional VAE for binarized MNIST, sized for 30 minutes on 2 CPU cores",
    ),
    "long": Config(
        model=dict(_CONV),
        batch_size=100,
        learning_rate=1e-3,
        epochs=120,
        description="`default` trained (and annealed over) 120 epochs instead of 80",
    ),
    "long170": Config(
        model=dict(_CONV),
        batch_size=100,
        learning_rate=1e-3,
        epochs=170,
        # Each save costs a fixed time: one per epoch (500 steps) fits 170 epochs in 30 minutes.
        checkpoint_every=500,
        description="`default` trained 170 epochs, one checkpoint per epoch: 85.93 nats (docs/RESULTS.md)",
    ),
    "code64": Config(
        # A 64-D code with the KL weight warmed up over the first eighth of the run (Sønderby et al. 2016).
        model=dict(_CONV, latent_dim=64, kl_warmup=0.125),
        batch_size=100,
        learning_rate=1e-3,
        epochs=80,
        description="`default` with a 64-D code and KL warm-up; measured worse than `default` (docs/RESULTS.md)",
    ),
    "mlp": Config(
        model=dict(architecture="mlp", hidden_units=(200, 200), latent_dim=50, activation="tanh"),
        batch_size=100,
        learning_rate=1e-3,
        epochs=100,
        description="the IWAE paper's one-layer VAE: 784-200-200-50 (tanh) and back",
    ),
    "conv_2d": Config(
        model=dict(architecture="conv", conv_channels=(32, 64), hidden_units=(256,), latent_dim=2),
        batch_size=100,
        learning_rate=1e-3,
        epochs=20,
        description="convolutional VAE with a 2-D code, for the code map and code grid pictures",
    ),
    "mlp_2d": Config(
        model=dict(architecture="mlp", hidden_units=(512, 256), latent_dim=2),
        batch_size=100,
        learning_rate=1e-3,
        epochs=20,
        description="MLP VAE with a 2-D code, for pictures",
    ),
    "pokemon": Config(
        model=dict(architecture="conv", conv_channels=(64, 128), hidden_units=(256,), latent_dim=32, embed_dim=8),
        batch_size=32,
        learning_rate=1e-3,
        epochs=200,
        description="categorical pixels over the 167-colour palette of the 20x20 Pokémon sprites",
    ),
    "tiny": Config(
        model=dict(
            architecture="conv",
            conv_channels=(4, 8),
            hidden_units=(16,),
            latent_dim=3,
            embed_dim=2,
            learning_rate_decay="cosine",  # exercises the schedule (checkpoints, resume)
            kl_warmup=0.5,  # and the warm-up
        ),
        batch_size=8,
        learning_rate=1e-2,
        epochs=1,
        description="for tests",
    ),
}
