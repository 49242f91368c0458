"""Reading one-sentence-a-line text files (Penn Treebank, Mikolov's preprocessing).

Every line is one sentence of space-separated tokens (already lower-cased,
numbers as `N`, rare words as `<unk>`). Lines are validated as they are read,
so a corrupt file fails with `path:line: what is wrong`.
"""

import collections
import unicodedata
from pathlib import Path

from tfgen.data.errors import DataError

PAD = ""  # index 0: padding, and the decoder's start and end of a sentence
UNK = "<unk>"  # index 1: every word outside the vocabulary (PTB's own <unk> included)


def standardize(sentence):
    """What the tokenizer layer does before splitting (TextVectorization standardize="lower")."""
    return sentence.lower()


def iter_sentences(path):
    """Yields (line number, sentence) for every line of a UTF-8 file.

    Raises DataError for a missing file, bytes that are not UTF-8, a line
    without words, and control characters (a binary or mangled file).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DataError(path, f"not valid UTF-8 (byte {e.start + 1} of the line)", lineno) from None
            text = text.rstrip("\r\n")
            bad = next((ch for ch in text if unicodedata.category(ch) == "Cc" and ch != "\t"), None)
            if bad is not None:
                raise DataError(path, f"control character {bad!r} in a sentence", lineno)
            if not text.split():
                raise DataError(path, "empty line: every line must hold one sentence", lineno)
            yield lineno, " ".join(text.split())


def build_vocabulary(sentences, min_count=2):
    """Tokens by index: PAD, UNK, then every word seen at least `min_count`
    times (after `standardize`), most frequent first, ties alphabetical."""
    counts = collections.Counter(w for s in sentences for w in standardize(s).split())
    counts.pop(UNK, None)
    counts.pop(PAD, None)
    words = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
    return [PAD, UNK, *words]
