"""Named configs of the PixelRNN paper's models (`tools/train.py --model=NAME --config=NAME`).

`paper`: the paper's binarized MNIST setting where it gives one ([1], section
5 and table 4: Diagonal BiLSTM with 7 layers of 16 units; the paper reports
no Row LSTM or PixelCNN MNIST model, so those use the same 7 x 16 shape).
`default`: sized to train on a 2-core CPU within an hour (docs/results/issue5.md);
learning rate 3e-3 (measured: PixelCNN 91.9 nats after one epoch against 93.8 at 1e-3).
The paper trained with RMSProp and batches of 16 on MNIST; here every config
uses the trainer's Adam.
`tiny`: for tests, runs in seconds.

[1] van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural
    Networks", arXiv:1601.06759.
"""

from tfgen.registry import Config

TINY = Config(
    model=dict(units=6, num_layers=2, embedding_dim=2, head_units=24),
    batch_size=8,
    learning_rate=1e-2,
    epochs=1,
    description="for tests: two blocks of 6 units (12-feature residual stream, 4 per colour channel)",
)

PAPER_MODEL = dict(units=16, num_layers=7, embedding_dim=4, head_units=32)

# `pokemon`: 167 palette colours want a wider embedding and head than 2 grey levels, and the head
# reads which colours the sprite used already (colour_history: 699.6 -> 647.7 nats for PixelCNN);
# 668 sprites want dropout, weight decay and mirrored sprites. Epochs: what 20 budget minutes held
# in the measured runs (docs/RESULTS.md, Pokemon tables); row_lstm and pixelcnn stop early before.
POKEMON_MODEL = dict(
    units=32, num_layers=4, embedding_dim=16, head_units=128, dropout=0.3, weight_decay=0.01, colour_history=True
)


def pokemon(epochs, description, early_stopping=None, **model):
    return Config(
        model=dict(POKEMON_MODEL, **model),
        batch_size=32,
        learning_rate=2e-3,
        epochs=epochs,
        early_stopping=early_stopping,
        dataset="pokemon",
        flip=True,
        description=description + ", regularised for the 668 Pokemon sprites (20 budget minutes)",
    )


# XLA-compiling the whole train step (the recurrences inside are compiled loops already): the Row LSTM's
# step at its batch of 32 was 1.10-1.29x faster in three alternated pairs of runs (level with the plain
# step at batch 64), the Diagonal BiLSTM's 1.7x (docs/RESULTS.md).
ROW_LSTM_CONFIGS = {
    "default": Config(
        model=dict(units=16, num_layers=4, embedding_dim=4, head_units=64),
        batch_size=32,
        learning_rate=3e-3,
        epochs=13,
        jit_compile=True,
        description="4 Row LSTM layers of 16 units: about an hour on 2 CPU cores (13 epochs)",
    ),
    "paper": Config(
        model=PAPER_MODEL,
        batch_size=16,
        learning_rate=1e-3,
        epochs=200,
        jit_compile=True,
        description="7 Row LSTM layers of 16 units, the shape of the paper's MNIST Diagonal BiLSTM",
    ),
    "pokemon": pokemon(150, "4 Row LSTM layers of 32 units", early_stopping=40),
    "tiny": TINY,
}

DIAGONAL_BILSTM_CONFIGS = {
    "default": Config(
        model=dict(units=16, num_layers=4, embedding_dim=4, head_units=64),
        batch_size=32,
        learning_rate=3e-3,
        epochs=6,
        jit_compile=True,
        description="4 Diagonal BiLSTM layers of 16 units: about an hour on 2 CPU cores (6 epochs)",
    ),
    "paper": Config(
        model=PAPER_MODEL,
        batch_size=16,
        learning_rate=1e-3,
        epochs=200,
        jit_compile=True,
        description="the paper's binarized MNIST model: 7 Diagonal BiLSTM layers of 16 units (79.20 nats)",
    ),
    # 74 epochs: what 20 budget minutes held on one core (docs/RESULTS.md); still improving there.
    "pokemon": pokemon(74, "4 Diagonal BiLSTM layers of 32 units", early_stopping=40),
    # One loop over the columns: runs of columns pay for themselves only on big images, and every
    # extra loop is one more XLA compilation per test process (the layer tests cover the runs).
    "tiny": TINY.replace(model=dict(TINY.model, run_columns=None)),
}

PIXELCNN_CONFIGS = {
    "default": Config(
        model=dict(units=32, num_layers=8, embedding_dim=4, head_units=64, kernel_size=3),
        batch_size=32,
        learning_rate=3e-3,
        epochs=12,
        description="8 residual blocks of 3x3 masked convolutions, 64-feature stream: about an hour on 2 CPU cores",
    ),
    "paper": Config(
        model=dict(PAPER_MODEL, kernel_size=3),
        batch_size=16,
        learning_rate=1e-3,
        epochs=200,
        description="7 residual blocks of 3x3 masked convolutions, 32-feature stream",
    ),
    "pokemon": pokemon(
        300,  # 329 epochs filled 20 budget minutes; the best validation came at epoch 114
        "8 residual blocks of 3x3 masked convolutions, 64-feature stream",
        early_stopping=40,
        num_layers=8,
        kernel_size=3,
    ),
    # Dropout and the colour history in the tiny config, so the registry-wide tests (causality,
    # samplers, resume, export, distributed, seeds) cover a model whose training draws a dropout mask,
    # and the history's causality and cached sampler.
    "tiny": TINY.replace(
        model=dict(TINY.model, dropout=0.1, colour_history=True),
        description=TINY.description + ", dropout 0.1, colour history",
    ),
}
