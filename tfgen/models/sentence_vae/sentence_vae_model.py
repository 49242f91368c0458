"""Sentence VAE: an LSTM encoder and an LSTM decoder over words with a Gaussian code.

After Bowman et al. 2016: a sentence is encoded by an LSTM into q(c|x) =
N(m, diag(exp(log_var))); the decoder LSTM generates the words given the code
(here added to the decoder's input gates at every step). Two tricks keep the
decoder from ignoring the code, i.e. the KL from collapsing to zero:

* KL annealing: the KL weight rises from 0 to beta over the first
  `kl_warmup` fraction of the run (linearly; Bowman et al. use a sigmoid), so the code first learns to
  carry information before it is charged for it;
* word dropout: each input word of the decoder is replaced by `<unk>` with
  probability `word_dropout` while training, so the decoder cannot rely on
  the previous words alone and must read the code.

Index 0 (padding) doubles as the start token the decoder reads first and as
the end-of-sentence token it predicts after the last word, so the vocabulary
needs no extra symbols. Decoding (greedy and beam) runs as one compiled loop
with fixed-shape buffers, and `sample`/`decode` convert to TFLite.

[1] Bowman, Vilnis, Vinyals, Dai, Jozefowicz, Bengio 2016, "Generating
    Sentences from a Continuous Space", CoNLL, arXiv:1511.06349.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from tfgen import losses, registry
from tfgen.export.signatures import Signature, TensorInput
from tfgen.layers import SequenceLSTM
from tfgen.losses import latent as latent_losses
from tfgen.models.base import GaussianCodePosterior, GenerativeModel, global_batch_mean, replica_rows
from tfgen.models.sentence_vae import sentence_decoding
from tfgen.models.sentence_vae.sentence_tokenizer import UNK, SentenceTokenizer
from tfgen.models.sentence_vae.sentence_vae_configs import CONFIGS

EVAL_NOISE_SEED = (2016, 1)


@registry.register("sentence_vae", configs=CONFIGS, default_dataset="ptb")
class SentenceVAE(GenerativeModel, GaussianCodePosterior):
    """VAE over sentences with LSTM encoder and decoder.

    Args:
        vocabulary: tokens by index ("" and "<unk>" first), from the DataSpec.
        max_length: words per sentence (longer ones are truncated).
        embed_dim: word embedding size. Defaults to 256.
        units: LSTM cells of the encoder and of the decoder. Defaults to 256.
        latent_dim: code size. Defaults to 16.
        beta: final KL weight. Defaults to 1 (the ELBO).
        kl_warmup: fraction of the run over which the KL weight rises from 0
            to beta (`tfgen.losses.latent.kl_weight`). Defaults to 0.5.
        word_dropout: probability of replacing a decoder input word by <unk>
            while training.
        kl_free_bits: nats per code dimension the training objective does not
            charge for (Kingma et al. 2016): each dimension's batch-mean KL
            counts as max(kl_free_bits, KL_j). 0 (default) trains on the ELBO
            itself. Reported KL and -ELBO are always the true ones.

    Example:
        >>> model = SentenceVAE(vocabulary, max_length=50)
        >>> mean, log_var = model.posterior(tf.constant(["the market fell"]))
        >>> model.greedy_decode(mean)      # word ids [1, 50]
    """

    family = "latent_text"
    monitor = "reconstruction"
    default_signature = "sample"

    def __init__(
        self,
        vocabulary,
        max_length,
        embed_dim=256,
        units=256,
        latent_dim=16,
        beta=1.0,
        kl_warmup=0.5,
        word_dropout=0.3,
        kl_free_bits=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary = [str(w) for w in vocabulary]
        self.vocab_size = len(self.vocabulary)
        self.max_length = int(max_length)
        self.embed_dim = int(embed_dim)
        self.units = int(units)
        self.latent_dim = int(latent_dim)
        self.beta = float(beta)
        self.kl_warmup = float(kl_warmup)
        if not 0.0 <= self.kl_warmup <= 1.0:
            raise ValueError(f"kl_warmup is a fraction of the run in [0, 1], got {kl_warmup}")
        self.word_dropout = float(word_dropout)
        self.kl_free_bits = float(kl_free_bits)
        self.tokenizer = SentenceTokenizer(self.vocabulary, self.max_length, name="tokenizer")
        self.embedding = keras.layers.Embedding(self.vocab_size, self.embed_dim, name="embedding")
        self.encoder_gates = keras.layers.Dense(4 * self.units, use_bias=False, name="encoder_input_gates")
        self.encoder_lstm = SequenceLSTM(self.units, name="encoder_lstm")
        self.to_posterior = keras.layers.Dense(2 * self.latent_dim, name="posterior")
        self.decoder_gates = keras.layers.Dense(4 * self.units, use_bias=False, name="decoder_input_gates")
        self.code_gates = keras.layers.Dense(4 * self.units, use_bias=False, name="code_gates")
        self.decoder_lstm = SequenceLSTM(self.units, name="decoder_lstm")
        self.head = keras.layers.Dense(self.vocab_size, name="logits")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.kl_weight_tracker = keras.metrics.Mean(name="kl_weight")

    @classmethod
    def from_data_spec(cls, spec, **kwargs):
        if spec.kind != "text":
            raise ValueError(f"{cls.__name__} models text; {spec.name} holds {spec.kind}")
        return cls(vocabulary=spec.vocabulary, max_length=spec.max_length, **kwargs)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary": list(self.vocabulary),
            "max_length": self.max_length,
            "embed_dim": self.embed_dim,
            "units": self.units,
            "latent_dim": self.latent_dim,
            "beta": self.beta,
            "kl_warmup": self.kl_warmup,
            "word_dropout": self.word_dropout,
            "kl_free_bits": self.kl_free_bits,
        }

    # -- conformance tests ------------------------------------------------

    WORDS = ("the", "cat", "sat", "on", "mat", "a", "dog", "ran", "to", "n")

    @classmethod
    def conformance_spec(cls):
        from tfgen.data import DataSpec

        vocabulary = ("", "<unk>", *cls.WORDS)
        return DataSpec(
            "test", (), len(vocabulary), np.zeros((0, 3), np.uint8), kind="text", vocabulary=vocabulary, max_length=6
        )

    @classmethod
    def example_batch(cls, spec, n, seed=0):
        """Sentences from a few templates (structure a model can learn from eight
        of them), some with unknown or upper-case words, some longer than max_length."""
        rng = np.random.default_rng(seed)
        templates = (
            "the {a} sat on the mat",
            "a {a} ran to the {b}",
            "the {a} ran",
            "{a} {b} Quickly",
            "the {a} sat on a {b} to the {a} zebra",
        )
        animals = ("cat", "dog", "zebra", "n")
        sentences = []
        for _ in range(n):
            template = templates[rng.integers(len(templates))]
            sentences.append(template.format(a=rng.choice(animals), b=rng.choice(animals)))
        return tf.constant(sentences)

    def build_for_data(self):
        self(tf.constant(["the"]))

    def build(self, input_shape):
        steps = self.max_length + 1
        self.embedding.build((None, steps))
        self.encoder_gates.build((None, steps, self.embed_dim))
        self.encoder_lstm.build((None, steps, 4 * self.units))
        self.to_posterior.build((None, self.units))
        self.decoder_gates.build((None, steps, self.embed_dim))
        self.code_gates.build((None, self.latent_dim))
        self.decoder_lstm.build((None, steps, 4 * self.units))
        self.head.build((None, steps, self.units))
        self.add_noise_seed()
        self.built = True

    # -- the model ------------------------------------------------------------

    def tokenize(self, sentences):
        """Strings [B] -> word ids [B, max_length] (raises on an empty sentence)."""
        return self.tokenizer.tokenize(sentences)

    def posterior_from_ids(self, ids):
        """(mean, log_var) [B, D] of q(c | words) from word ids [B, T]."""
        lengths = tf.reduce_sum(tf.cast(ids > 0, tf.int32), axis=1)
        gates = self.encoder_gates(self.embedding(tf.transpose(ids)))  # time-major [T, B, 4H]
        hidden = self.encoder_lstm(gates, time_major=True)
        # The state after the last word (not after the padding that follows it).
        last = tf.gather(tf.transpose(hidden, [1, 0, 2]), tf.maximum(lengths - 1, 0), batch_dims=1)
        h = tf.cast(self.to_posterior(last), tf.float32)
        return h[:, : self.latent_dim], h[:, self.latent_dim :]

    def posterior_from_ids_stepwise(self, ids):
        """`posterior_from_ids` one step at a time (same numbers, tested).

        Serving path: builtin ops in a plain while loop, where the fast
        training LSTM is an XLA-compiled kernel with a TensorArray.
        """
        batch = tf.shape(ids)[0]
        lengths = tf.reduce_sum(tf.cast(ids > 0, tf.int32), axis=1)
        state = self.encoder_lstm_state(batch)

        def body(t, h, c):
            gates = self.encoder_gates(self.embedding(ids[:, t]))
            new_h, (_, new_c) = self.encoder_lstm.step(gates, (h, c))
            # Past a sentence's last word its state stays as it was.
            keep = (t < lengths)[:, None]
            return t + 1, tf.where(keep, new_h, h), tf.where(keep, new_c, c)

        _, h, _ = tf.while_loop(lambda t, *_: t < self.max_length, body, (tf.constant(0), *state))
        out = tf.cast(self.to_posterior(h), tf.float32)
        return out[:, : self.latent_dim], out[:, self.latent_dim :]

    def encoder_lstm_state(self, batch):
        zeros = tf.zeros([batch, self.units], self.compute_dtype)
        return zeros, zeros

    def posterior(self, sentences):
        return self.posterior_from_ids(self.tokenize(sentences))

    def decoder_hidden(self, ids, codes, input_ids=None):
        """Teacher-forced decoder states [B, T+1, H] predicting the words of `ids` and then the end.

        input_ids: the decoder's inputs (the words shifted right after the
        start token), when word dropout changed them; default from ids.
        """
        if input_ids is None:
            input_ids = self.decoder_inputs(ids)
        gates = self.decoder_gates(self.embedding(tf.transpose(input_ids)))  # [T+1, B, 4H]
        gates = gates + self.code_gates(tf.cast(codes, self.compute_dtype))[None]
        return tf.transpose(self.decoder_lstm(gates, time_major=True), [1, 0, 2])

    def decoder_logits(self, ids, codes, input_ids=None):
        """Teacher-forced logits [B, T+1, V] (every position, padding included)."""
        return self.head(self.decoder_hidden(ids, codes, input_ids))

    def word_log_prob(self, ids, codes, input_ids=None):
        """log p(words, end | code) in nats [B]: `sentence_log_prob` of `decoder_logits`, but
        the vocabulary projection (most of the work) only at the positions that count.

        PTB sentences average 21 words of the 51 positions, so this skips ~55%
        of the softmax in training and in importance sampling.
        """
        targets, mask = self.targets_and_mask(ids)
        positions = tf.where(mask > 0)  # [N, 2] (example, position)
        hidden = tf.gather_nd(self.decoder_hidden(ids, codes, input_ids), positions)
        logits = tf.cast(self.head(hidden), tf.float32)
        per_word = -tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.gather_nd(targets, positions), logits=logits
        )
        return tf.math.unsorted_segment_sum(per_word, positions[:, 0], tf.shape(ids)[0])

    @staticmethod
    def decoder_inputs(ids):
        return tf.concat([tf.zeros_like(ids[:, :1]), ids], axis=1)

    @staticmethod
    def targets_and_mask(ids):
        """Targets [B, T+1] (the words, then END) and the mask of the positions that count."""
        targets = tf.concat([ids, tf.zeros_like(ids[:, :1])], axis=1)
        lengths = tf.reduce_sum(tf.cast(ids > 0, tf.int32), axis=1)
        mask = tf.sequence_mask(lengths + 1, tf.shape(targets)[1], dtype=tf.float32)
        return targets, mask

    def sentence_log_prob(self, logits, ids):
        """log p(words, end | code) in nats: [B]."""
        targets, mask = self.targets_and_mask(ids)
        per_word = -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=tf.cast(logits, tf.float32))
        return tf.reduce_sum(per_word * mask, axis=1)

    def call(self, sentences, training=False):
        """Logits of the words given the mean code (deterministic)."""
        ids = self.tokenize(sentences)
        mean, _ = self.posterior_from_ids(ids)
        return self.decoder_logits(ids, mean)

    # -- training ---------------------------------------------------------

    def kl_weight(self):
        return latent_losses.kl_weight(self.optimizer.iterations, self.beta, self.kl_warmup, self.total_steps)

    def drop_words(self, input_ids, seed):
        """Replaces each input word (not the start token, not padding) by <unk> with probability word_dropout."""
        if not self.word_dropout:
            return input_ids
        length = tf.shape(input_ids)[1]
        uniform = replica_rows(lambda n: tf.random.stateless_uniform([n, length], seed=seed), tf.shape(input_ids)[0])
        drop = (uniform < self.word_dropout) & (input_ids > 0)
        return tf.where(drop, tf.fill(tf.shape(input_ids), UNK), input_ids)

    def elbo_terms(self, ids, eps, input_ids=None, per_dimension=False):
        """(reconstruction [B], KL [B], or [B, D] per code dimension with per_dimension)."""
        mean, log_var = self.posterior_from_ids(ids)
        codes = latent_losses.reparameterize(mean, log_var, eps)
        log_prob = self.word_log_prob(ids, codes, input_ids)
        if per_dimension:
            kl = latent_losses.gaussian_kl(mean[..., None], log_var[..., None])
        else:
            kl = latent_losses.gaussian_kl(mean, log_var)
        return -log_prob, kl

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker, self.kl_weight_tracker]

    def train_step(self, sentences):
        ids = self.tokenize(sentences)
        batch = tf.shape(ids)[0]
        eps_seed = self.training_seed(1)
        eps = replica_rows(lambda n: tf.random.stateless_normal([n, self.latent_dim], seed=eps_seed), batch)
        input_ids = self.drop_words(self.decoder_inputs(ids), self.training_seed(2))
        weight = self.kl_weight()
        with tf.GradientTape() as tape:
            reconstruction, kl_per_dim = self.elbo_terms(ids, eps, input_ids, per_dimension=True)
            kl = tf.reduce_sum(kl_per_dim, axis=1)
            total = reconstruction + weight * kl
            # Free bits apply to the global batch's mean KL per dimension (not each replica's),
            # so a mirrored run optimises the single-process objective.
            charged = tf.maximum(self.kl_free_bits, global_batch_mean(tf.reduce_mean(kl_per_dim, axis=0)))
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            objective = losses.replica_mean(reconstruction) + weight * tf.reduce_sum(charged) / replicas
            loss = self.optimizer.scale_loss(objective)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(losses.dense_gradients(grads), self.trainable_variables))
        self.loss_tracker.update_state(total)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        self.kl_weight_tracker.update_state(weight)
        return {m.name: m.result() for m in self.metrics}

    def per_example_metrics(self, sentences):
        """-ELBO (nats per sentence, an upper bound on its NLL), its terms, and the
        number of predicted tokens (words + end), for perplexity = exp(sum -ELBO / sum tokens)."""
        ids = self.tokenize(sentences)
        eps = tf.random.stateless_normal([tf.shape(ids)[0], self.latent_dim], seed=EVAL_NOISE_SEED)
        reconstruction, kl = self.elbo_terms(ids, eps)
        return {
            "negative_elbo": reconstruction + kl,
            "reconstruction": reconstruction,
            "kl": kl,
            "tokens": self.count_tokens(ids),
        }

    @staticmethod
    def count_tokens(ids):
        return tf.cast(tf.reduce_sum(tf.cast(ids > 0, tf.int32), axis=1) + 1, tf.float32)

    # -- importance-weighted likelihood (tfgen.evaluation.importance) ------

    def gaussian_posterior(self, sentences):
        ids = self.tokenize(sentences)
        mean, log_var = self.posterior_from_ids(ids)
        return ids, mean, log_var

    def sample_log_likelihood(self, ids, codes):
        """log p(words | codes) for S codes per sentence: codes [B, S, D] -> [B, S]."""
        batch, samples = tf.shape(codes)[0], tf.shape(codes)[1]
        tiled = tf.reshape(tf.repeat(ids[:, None], samples, axis=1), [-1, self.max_length])
        flat = tf.reshape(codes, [-1, self.latent_dim])
        return tf.reshape(self.word_log_prob(tiled, flat), [batch, samples])

    # -- decoding -----------------------------------------------------------

    def decoder_step(self, previous, state, code_gates):
        """One decoder step: (log-probabilities of the next word [B, V], LSTM state)."""
        gates = self.decoder_gates(self.embedding(previous)) + code_gates
        h, state = self.decoder_lstm.step(gates, state)
        return tf.nn.log_softmax(tf.cast(self.head(h), tf.float32)), state

    def greedy_decode(self, codes):
        """Word ids [B, max_length] (0 after the end) of the most likely word at every step."""
        return sentence_decoding.greedy_decode(self, codes)

    def beam_decode(self, codes, beam_width=5):
        """Word ids [B, max_length]: the best of `beam_width` hypotheses by log-probability per token."""
        return sentence_decoding.beam_decode(self, codes, beam_width)

    def detokenize(self, ids):
        return self.tokenizer.detokenize(ids)

    def interpolate(self, first, second, fraction):
        """Greedy decodings of (1 - f) * code(first) + f * code(second), codes being posterior means."""
        a, _ = self.posterior_from_ids_stepwise(self.tokenize(first))
        b, _ = self.posterior_from_ids_stepwise(self.tokenize(second))
        f = tf.cast(fraction, a.dtype)[:, None]
        return self.greedy_decode((1 - f) * a + f * b)

    def noise(self, num, seed):
        return tf.random.stateless_normal([num, self.latent_dim], seed=[seed, 0])

    def previews(self, examples, palette=None, num_samples=16, seed=0):
        """Texts written at the end of training: samples, reconstructions, an interpolation."""
        del palette
        sentences = tf.constant(examples)
        lines = ["# sentences decoded (greedy) from codes drawn from N(0, I)"]
        lines += [s.decode() for s in self.detokenize(self.greedy_decode(self.noise(num_samples, seed))).numpy()]
        lines += ["", "# validation sentence -> greedy decoding of its mean code"]
        recon = self.detokenize(self.greedy_decode(self.posterior(sentences)[0])).numpy()
        for original, decoded in zip(sentences.numpy(), recon):
            lines += [f"  {original.decode()}", f"> {decoded.decode()}"]
        if len(examples) >= 2:
            lines += ["", "# interpolation between the first two validation sentences (greedy)"]
            fractions = np.linspace(0, 1, 7, dtype=np.float32)
            n = len(fractions)
            ids = self.interpolate(tf.repeat(sentences[:1], n), tf.repeat(sentences[1:2], n), tf.constant(fractions))
            for f, s in zip(fractions, self.detokenize(ids).numpy()):
                lines.append(f"{f:.2f} {s.decode()}")
        return {"sentences": "\n".join(lines) + "\n"}

    # -- serving ----------------------------------------------------------

    def _token_outputs(self, ids):
        return {"tokens": ids}

    def signatures(self):
        d, t, v = self.latent_dim, self.max_length, self.vocab_size
        noise = TensorInput("noise", (d,), "float32", doc="standard normal noise, the codes to decode")
        codes = TensorInput("codes", (d,), "float32", doc="codes to decode")
        sentences = TensorInput("sentences", (), "string", doc="sentences (words separated by spaces)")
        first = TensorInput("first", (), "string", doc="the sentence at fraction 0")
        second = TensorInput("second", (), "string", doc="the sentence at fraction 1")
        fraction = TensorInput("fraction", (), "float32", 0.0, 1.0, doc="where between first (0) and second (1)")
        tokens = {"tokens": f"int32 [B, {t}] word ids (0 after the end), vocabulary in the export's metadata"}
        text = {**tokens, "sentences": "string [B] the decoded sentences"}
        no_strings = "string inputs need StringSplit/StringLower/hash tables, which are not TFLite builtins"

        def with_text(ids):
            return {"tokens": ids, "sentences": self.detokenize(ids)}

        def encode(s):
            mean, log_var = self.posterior_from_ids_stepwise(self.tokenize(s))
            return {"mean": mean, "log_variance": log_var}

        def encode_reference(s):
            mean, log_var = self.posterior(s)
            return {"mean": mean, "log_variance": log_var}

        def reconstruct(s):
            return with_text(self.greedy_decode(self.posterior_from_ids_stepwise(self.tokenize(s))[0]))

        return [
            Signature(
                "sample",
                (noise,),
                tokens,
                lambda n: self._token_outputs(self.greedy_decode(n)),
                exact_outputs=("tokens",),
                doc=f"greedy decoding of codes drawn from N(0, I) (vocabulary of {v})",
            ),
            Signature(
                "decode",
                (codes,),
                tokens,
                lambda c: self._token_outputs(self.greedy_decode(c)),
                exact_outputs=("tokens",),
                doc="greedy decoding of given codes",
            ),
            Signature(
                "encode",
                (sentences,),
                {"mean": f"float32 [B, {d}] mean of q(c|x)", "log_variance": f"float32 [B, {d}] its log variance"},
                encode,
                tflite=False,
                doc=f"q(c | sentence); not in TFLite: {no_strings}",
                reference=encode_reference,
            ),
            Signature(
                "reconstruct",
                (sentences,),
                text,
                reconstruct,
                exact_outputs=("tokens", "sentences"),
                tflite=False,
                doc=f"greedy decoding of the sentences' mean codes; not in TFLite: {no_strings}",
            ),
            Signature(
                "interpolate",
                (first, second, fraction),
                text,
                lambda a, b, f: with_text(self.interpolate(a, b, f)),
                exact_outputs=("tokens", "sentences"),
                tflite=False,
                doc=f"greedy decoding between two sentences' codes; not in TFLite: {no_strings}",
            ),
        ]


def perplexity(total_nats, total_tokens):
    """exp(nats per predicted token)."""
    return math.exp(total_nats / total_tokens)
