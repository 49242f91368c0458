"""Named configs for the sentence VAE (`tools/train.py --model=sentence_vae --config=NAME`)."""

from tfgen.registry import Config

CONFIGS = {
    "default": Config(
        model=dict(embed_dim=256, units=256, latent_dim=16, kl_anneal_steps=3000, word_dropout=0.3),
        batch_size=32,
        learning_rate=1e-3,
        epochs=40,
        description="LSTM encoder and decoder (256 cells), 16-D code, KL annealing and word dropout (Bowman et al.)",
    ),
    "tiny": Config(
        model=dict(embed_dim=16, units=32, latent_dim=4, kl_anneal_steps=20, word_dropout=0.3),
        batch_size=8,
        learning_rate=2e-2,
        epochs=1,
        description="for tests",
    ),
}
