"""The PTB sentence builder on the shared file and on broken files."""

import collections

import numpy as np
import pytest
import tensorflow as tf

from tfgen import data as tfdata
from tfgen.data import text_files
from tfgen.data.errors import DataError
from tfgen.models.sentence_vae.sentence_tokenizer import SentenceTokenizer


def sentences(ds):
    return [s.decode() for s in ds.as_numpy_iterator()]


def test_ptb_builder_on_shared_data(ptb_dir):
    train, spec = tfdata.load("ptb", "train", ptb_dir)
    val, _ = tfdata.load("ptb", "validation", ptb_dir)
    train, val = sentences(train), sentences(val)
    lines = (ptb_dir / "ptb.valid.txt").read_text().splitlines()
    assert (len(train), len(val)) == (3033, 337) and spec.num_examples == {"train": 3033, "validation": 337}
    # Split by position; whitespace normalised (PTB lines start and end with a space).
    assert sorted(val) == sorted(" ".join(line.split()) for line in lines[9::10])
    assert spec.kind == "text" and spec.image_shape == () and spec.max_length == 50
    vocab = spec.vocabulary
    assert vocab[:2] == ("", "<unk>") and spec.num_classes == len(vocab) == len(set(vocab))
    # The vocabulary is the training part's words seen twice or more, lower-cased, nothing else.
    counts = collections.Counter(w.lower() for s in train for w in s.split())
    assert set(vocab[2:]) == {w for w, n in counts.items() if n >= 2 and w != "<unk>"}
    assert "n" in vocab and "N" not in vocab  # PTB's number token, lower-cased like all input
    validation_only = {w.lower() for s in val for w in s.split()} - set(counts)
    assert validation_only and not validation_only & set(vocab)


def test_tokenizer_agrees_with_the_builders_vocabulary(ptb_dir):
    """Every training word of the vocabulary maps to its own index; every other word to <unk>."""
    train, spec = tfdata.load("ptb", "train", ptb_dir)
    tokenizer = SentenceTokenizer(spec.vocabulary, spec.max_length)
    text = sentences(train)[:500]
    ids = tokenizer.tokenize(tf.constant(text)).numpy()
    index = {w: i for i, w in enumerate(spec.vocabulary)}
    for s, row in zip(text, ids):
        words = s.lower().split()[: spec.max_length]
        want = [index.get(w, 1) for w in words] + [0] * (spec.max_length - len(words))
        np.testing.assert_array_equal(row, want, err_msg=s)
    back = tokenizer.detokenize(ids[:3]).numpy()
    for s, b in zip(text[:3], back):
        words = [w if w in index else "<unk>" for w in s.lower().split()[: spec.max_length]]
        assert b.decode() == " ".join(words)


@pytest.mark.parametrize(
    "content, words",
    [
        (b"the cat\n\nsat\n", "ptb.valid.txt:2: empty line"),
        (b"the cat\nsat \xff on\n", "ptb.valid.txt:2: not valid UTF-8"),
        (b"the cat\nsat\nthe \x00 mat\n", "ptb.valid.txt:3: control character"),
        (b"a\nb\n   \t \n", "ptb.valid.txt:3: empty line"),
    ],
)
def test_ptb_builder_reports_bad_line(tmp_path, content, words):
    (tmp_path / "ptb.valid.txt").write_bytes(content)
    with pytest.raises(DataError, match=words):
        tfdata.load("ptb", "train", tmp_path)


def test_ptb_missing_file(tmp_path):
    with pytest.raises(DataError, match="ptb.valid.txt: file not found"):
        tfdata.load("ptb", "train", tmp_path)


def test_ptb_small_file_and_vocabulary_from_train_only(tmp_path):
    lines = [f"the cat number {i}" for i in range(9)] + ["zebra zebra appears only here"]
    (tmp_path / "ptb.valid.txt").write_text("\n".join(lines) + "\n")
    val, spec = tfdata.load("ptb", "validation", tmp_path)
    assert sentences(val) == ["zebra zebra appears only here"]
    # Line 10 is validation: "zebra" (twice there) is still not in the vocabulary.
    assert spec.vocabulary == ("", "<unk>", "cat", "number", "the")


def test_build_vocabulary_by_hand():
    vocab = text_files.build_vocabulary(["b a a", "A c <unk>", "b d"], min_count=2)
    assert vocab == ["", "<unk>", "a", "b"]  # a: 3, b: 2 (most frequent first); c, d once; <unk> is index 1
