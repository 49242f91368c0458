"""Named configs for the sentence VAE (`tools/train.py --model=sentence_vae --config=NAME`)."""

from tfgen.registry import Config

CONFIGS = {
    "default": Config(
        model=dict(
            embed_dim=256,
            units=256,
            latent_dim=16,
            kl_anneal_steps=2000,
            word_dropout=0.3,
            # Annealing and word dropout alone let the KL collapse to ~0.01 nats on this small
            # corpus (docs/results/issue6.md); free bits keep the code in use.
            kl_free_bits=0.25,
        ),
        batch_size=32,
        learning_rate=1e-3,
        epochs=40,
        description="LSTM encoder and decoder (256 cells), 16-D code, KL annealing, word dropout, free bits",
    ),
    "tiny": Config(
        model=dict(embed_dim=16, units=32, latent_dim=4, kl_anneal_steps=20, word_dropout=0.3),
        batch_size=8,
        learning_rate=2e-2,
        epochs=1,
        description="for tests",
    ),
}
