"""Named configs for the sentence VAE (`tools/train.py --model=sentence_vae --config=NAME`)."""

from tfgen.registry import Config

CONFIGS = {
    "default": Config(
        model=dict(
            embed_dim=256,
            units=256,
            latent_dim=16,
            kl_warmup=0.5,
            word_dropout=0.3,
            kl_free_bits=0.25,  # without it the KL collapses on this small corpus (docs/RESULTS.md)
        ),
        batch_size=32,
        learning_rate=1e-3,
        epochs=40,
        description="LSTM encoder and decoder (256 cells), 16-D code, KL annealing, word dropout, free bits",
    ),
    "tiny": Config(
        # Free bits this small sit among the per-dimension KLs of the first steps, so the
        # registry-wide tests (the mirrored comparison among them) exercise the free-bits objective.
        model=dict(embed_dim=16, units=32, latent_dim=4, kl_warmup=0.5, word_dropout=0.3, kl_free_bits=0.0005),
        batch_size=8,
        learning_rate=2e-2,
        epochs=1,
        description="for tests",
    ),
}
