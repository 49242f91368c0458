"""Sentences -> word ids through `keras.layers.TextVectorization`.

The layout is TextVectorization's: index 0 is padding (the empty string) and
index 1 the out-of-vocabulary token, which we name `<unk>`: a word the
vocabulary does not hold maps there, and so does PTB's own `<unk>` token
(it is never a vocabulary entry of its own, see
`tfgen.data.text_files.build_vocabulary`). Text is lower-cased and split on
whitespace, the way the vocabulary was built.
"""

import keras
import tensorflow as tf

from tfgen.data import text_files
from tfgen.errors import InvalidArgumentError

END = 0  # padding, the start token and the end of a sentence
UNK = 1
EMPTY_MESSAGE = "sentences: a sentence is empty (no words); every sentence needs at least one word"


class EmptySentenceError(InvalidArgumentError):
    """A sentence without words was given to the tokenizer."""


class SentenceTokenizer(keras.layers.Layer):
    """Strings [B] -> int32 word ids [B, max_length], 0-padded (longer sentences truncated).

    `tokenize` does the same and rejects empty sentences.

    Args:
        vocabulary: tokens by index, starting with "" and "<unk>".
        max_length: words kept per sentence.

    Example:
        >>> tok = SentenceTokenizer(["", "<unk>", "the", "cat"], max_length=4)
        >>> tok.tokenize(tf.constant(["The cat sat"]))   # [[2, 3, 1, 0]]: "sat" is <unk>
    """

    def __init__(self, vocabulary, max_length, **kwargs):
        super().__init__(**kwargs)
        vocabulary = list(vocabulary)
        if vocabulary[:2] != [text_files.PAD, text_files.UNK]:
            raise ValueError(f"a vocabulary starts with {[text_files.PAD, text_files.UNK]}, got {vocabulary[:2]}")
        self.vocabulary = vocabulary
        self.max_length = int(max_length)
        self.vectorize = keras.layers.TextVectorization(
            standardize="lower",
            split="whitespace",
            output_mode="int",
            output_sequence_length=self.max_length,
            # TextVectorization adds "" and its own OOV entry at 0 and 1 itself.
            vocabulary=vocabulary[2:],
            name="text_vectorization",
        )

    def call(self, sentences):
        return tf.cast(self.vectorize(sentences), tf.int32)

    def tokenize(self, sentences):
        """Like calling the layer, but an empty sentence is an error.

        Eagerly an EmptySentenceError (raised here, outside Keras's call
        wrapper, so the message stays short); in a graph (the served model)
        an assertion with the same message, naming the input.
        """
        ids = self(sentences)
        lengths = tf.reduce_sum(tf.cast(ids > 0, tf.int32), axis=1)
        if tf.executing_eagerly():
            empty = tf.where(lengths == 0)[:, 0].numpy()
            if len(empty):
                raise EmptySentenceError(f"{EMPTY_MESSAGE} (index {int(empty[0])} of the batch)")
            return ids
        check = tf.debugging.assert_greater(lengths, 0, message=EMPTY_MESSAGE)
        with tf.control_dependencies([check]):
            return tf.identity(ids)

    def detokenize(self, ids):
        """int ids [B, T] -> strings [B]: the words up to the first 0, space-separated."""
        words = tf.gather(tf.constant(self.vocabulary), tf.cast(ids, tf.int32))
        # Zeros (padding) only follow the sentence's last word, so joining
        # everything and stripping the trailing separators is exact.
        return tf.strings.strip(tf.strings.reduce_join(words, axis=-1, separator=" "))
