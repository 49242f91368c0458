"""Named configs for the autoencoder (`tools/train.py --model=autoencoder --config=NAME`)."""

from tfgen.registry import Config

CONFIGS = {
    "default": Config(
        model=dict(architecture="mlp", hidden_units=(1000, 500, 250), latent_dim=30),
        batch_size=100,
        learning_rate=1e-3,
        epochs=30,
        description="the classic deep autoencoder: 784-1000-500-250-30 and back (Hinton & Salakhutdinov 2006)",
    ),
    "conv": Config(
        model=dict(architecture="conv", conv_channels=(32, 64), hidden_units=(256,), latent_dim=30),
        batch_size=100,
        learning_rate=1e-3,
        epochs=30,
        description="convolutional, 30-D code (same code size as the MLP and the PCA baseline)",
    ),
    "mlp_2d": Config(
        model=dict(architecture="mlp", hidden_units=(1000, 500, 250), latent_dim=2),
        batch_size=100,
        learning_rate=1e-3,
        epochs=20,
        description="the MLP with a 2-D code, for the code map and code grid pictures",
    ),
    "conv_2d": Config(
        model=dict(architecture="conv", conv_channels=(32, 64), hidden_units=(256,), latent_dim=2),
        batch_size=100,
        learning_rate=1e-3,
        epochs=20,
        description="the convolutional autoencoder with a 2-D code, for pictures",
    ),
    "tiny": Config(
        model=dict(architecture="conv", conv_channels=(4, 8), hidden_units=(16,), latent_dim=3, embed_dim=2),
        batch_size=8,
        learning_rate=1e-2,
        epochs=1,
        description="for tests",
    ),
}
