"""The model protocol, written once: what the trainer, the evaluators, the exporter and the tests rely on.

Every registered model subclasses `GenerativeModel` (through its family's base
class) and implements the members marked "required" below; `registry.register`
refuses a class that leaves one out. Nothing outside a model probes it with
`hasattr`: optional behaviour has a default here, and capabilities that only
some models have are base classes (`AutoregressiveImageModel` completes images,
`PosteriorModel` can be importance-sampled, `AdversarialImageModel` can judge a
GAM battle). docs/ARCHITECTURE.md explains each member and who calls it.
"""

import random

import keras
import tensorflow as tf

from tfgen import optimizers
from tfgen.errors import InvalidArgumentError
from tfgen.losses import latent as latent_losses

# The members a model must define itself (the base only states them).
REQUIRED = (
    "from_data_spec",
    "conformance_spec",
    "example_batch",
    "build_for_data",
    "call",
    "train_step",
    "per_example_metrics",
    "previews",
    "signatures",
)


def replica_id():
    """This replica's index in its sync group (0 outside a distribution strategy), as int32."""
    context = tf.distribute.get_replica_context()
    index = context.replica_id_in_sync_group if context is not None else 0
    return tf.cast(index, tf.int32)


def replica_rows(draw, batch_size):
    """This replica's `batch_size` rows of `draw(global_batch_size)`.

    Training noise is drawn for the whole global batch, alike in every replica
    (same seed), and each replica keeps the rows of its own examples (replica
    r holds global rows [r * batch_size, (r + 1) * batch_size), see
    `tfgen.data.pipeline`). So an example gets the same noise however the
    batch is split, and a mirrored or multi-worker run is the single-process
    run up to summation order, which tests/training checks for every model.
    Each replica draws B x replicas values where it needs B.
    """
    context = tf.distribute.get_replica_context()
    replicas = context.num_replicas_in_sync if context is not None else 1
    if replicas == 1:
        return draw(batch_size)
    start = replica_id() * batch_size
    return draw(batch_size * replicas)[start : start + batch_size]


def _sync_context():
    """The replica context when several replicas train in sync, else None."""
    context = tf.distribute.get_replica_context()
    return context if context is not None and context.num_replicas_in_sync > 1 else None


def global_batch_mean(value):
    """The mean over replicas of a per-replica batch mean: the global batch's mean (differentiable)."""
    context = _sync_context()
    return value if context is None else context.all_reduce("sum", value) / context.num_replicas_in_sync


def gather_replicas(value):
    """`value` [B, ...] of every replica, concatenated in replica order: the global batch's."""
    context = _sync_context()
    return value if context is None else context.all_gather(value, axis=0)


class GenerativeModel(keras.Model):
    """Base of every registered model.

    Class attributes a family or model sets:
        family: "autoregressive", "latent", "adversarial", ...; read by the registry.
        monitor: the `train_step` output that must fall when the tiny config
            trains on a fixed batch (conformance test).
        conformance_steps: steps of that test. Defaults to 30.
        default_signature: the signature `tools/sample.py` and the serving
            client use when none is named.
        monitors: see below.
    """

    family = None
    monitor = None
    # The validation metric (lower is better) whose best checkpoint training keeps; a
    # model whose per_example_metrics lack it (GANs) keeps only the newest checkpoints.
    selection_metric = "nll"
    # False where neither a likelihood nor a bound exists (GANs, energy, autoencoder): tools/evaluate.py
    # then scores generated samples by default.
    has_likelihood = True
    conformance_steps = 30
    default_signature = None
    # Names of `tfgen.training.callbacks.MONITORS` the trainer runs for this
    # model on the chief (sample grids, mode-collapse alarm, code map), each
    # calling the picture hook it needs (`probe_pictures(palette)`, `code_map_picture`).
    monitors = ()

    # -- data (required) ----------------------------------------------------

    @classmethod
    def from_data_spec(cls, spec, **kwargs):
        """The model for a dataset's `DataSpec`, with the config's constructor kwargs."""
        raise NotImplementedError

    @classmethod
    def conformance_spec(cls):
        """A small `DataSpec` the tiny config runs on in the conformance tests."""
        raise NotImplementedError

    @classmethod
    def example_batch(cls, spec, n, seed=0):
        """A valid batch of `n` examples for `spec`, reproducible from `seed`."""
        raise NotImplementedError

    def build_for_data(self):
        """Creates every weight (e.g. by calling the model on a dummy batch); `registry.build` calls it."""
        raise NotImplementedError

    # -- training -----------------------------------------------------------

    # The run's length in optimizer steps, set by `plan_run`; None (e.g. under a
    # bare `fit`): schedules that span the run are off.
    total_steps = None

    def plan_run(self, total_steps):
        """Called by the trainer before `make_optimizers` and the first step.

        Every schedule (learning-rate decay, KL warm-up) is a fraction of the
        run, so `--epochs`, `--steps`, `--batch_size` or another dataset keep
        it in step. Under `fit`, call it yourself before `compile` to get them.
        """
        self.total_steps = int(total_steps) if total_steps else None

    def make_optimizers(self, learning_rate):
        """`{checkpoint name: optimizer}`, passed to `compile(**optimizers)`."""
        return {"optimizer": optimizers.Adam(learning_rate)}

    def per_example_metrics(self, batch):
        """`{name: [B] tensor}`, averaged over a split by validation and tools/evaluate.py."""
        raise NotImplementedError

    def add_noise_seed(self):
        """A checkpointed int weight that seeds every random number a train step draws.

        Drawn from Python's RNG, which `keras.utils.set_random_seed(--seed)`
        seeds: another --seed gives other training noise, and a resumed run
        restores the seed with the weights, so it draws what an uninterrupted
        run would.
        """
        seed = random.randrange(2**30)
        self.noise_seed = self.add_weight(
            shape=(), dtype="int32", initializer=keras.initializers.Constant(seed), trainable=False, name="noise_seed"
        )

    def seed_counter(self):
        """The step count training seeds fold in (a GAN counts generator steps)."""
        return self.optimizer.iterations

    def training_seed(self, stream):
        """A stateless seed for this step and stream: a pure function of checkpointed state.

        The same in every replica: draw per-example noise through `replica_rows`.
        """
        base = tf.stack([tf.cast(self.noise_seed, tf.int32), tf.cast(self.seed_counter(), tf.int32)])
        return tf.random.experimental.stateless_fold_in(base, stream)

    # -- pictures and serving -------------------------------------------------

    def previews(self, examples, palette, num_samples=16, seed=0):
        """`{name: RGB uint8 array or str}` written at the end of training."""
        raise NotImplementedError

    def generate_images(self, num, seed):
        """`num` images reproducible from an int seed (docs/ARCHITECTURE.md: float colours or palette indices)."""
        raise InvalidArgumentError(f"{type(self).__name__} does not generate images")

    def signatures(self):
        """The `tfgen.export.signatures.Signature`s the export layer serves."""
        raise NotImplementedError

    def cached_function(self, fn, jit_compile=False):
        """`fn` (a bound method) as one cached `tf.function` per model: traced again only for new shapes.

        jit_compile: XLA-compile it (compiled again for each new input shape).
        """
        cache = self.__dict__.setdefault("_cached_functions", {})  # __dict__: not a tracked Keras attribute
        key = (fn.__name__, bool(jit_compile))
        if key not in cache:
            cache[key] = tf.function(fn, reduce_retracing=True, jit_compile=bool(jit_compile), autograph=False)
        return cache[key]


class PosteriorModel:
    """A latent-variable model whose likelihood can be importance-sampled (`tfgen/evaluation/importance.py`).

    One draw of the code from q(c|x) takes `importance_noise_dim()` standard
    normal numbers; the model turns them into a code and weighs it. This holds
    for a single Gaussian code (the VAEs, `GaussianCodePosterior`) and for a
    sequential posterior whose later parts depend on earlier draws (DRAW).
    """

    def importance_noise_dim(self):
        """Standard normal numbers one draw of the whole code from q(c|x) takes."""
        raise NotImplementedError

    def encode_for_likelihood(self, batch):
        """What `log_importance_weights` needs from a batch (any nest of [B, ...] tensors), computed once."""
        raise NotImplementedError

    def log_importance_weights(self, context, eps):
        """log p(x, c) - log q(c|x) [B, S] for the codes c that noise eps [B, S, D] draws from q(c|x)."""
        raise NotImplementedError

    def posterior_means(self, batch):
        """[B, D] the code's posterior mean (for counting active units)."""
        raise NotImplementedError


class GaussianCodePosterior(PosteriorModel):
    """`PosteriorModel` for one diagonal Gaussian code per example, q(c|x) = N(mean, exp(log_var)), prior N(0, I).

    A subclass gives `gaussian_posterior(batch) -> (context, mean, log_var)`
    and `sample_log_likelihood(context, codes)`: log p(x|c) [B, S] for codes [B, S, D].
    """

    def gaussian_posterior(self, batch):
        raise NotImplementedError

    def sample_log_likelihood(self, context, codes):
        raise NotImplementedError

    def importance_noise_dim(self):
        return self.latent_dim

    def encode_for_likelihood(self, batch):
        return self.gaussian_posterior(batch)

    def log_importance_weights(self, context, eps):
        context, mean, log_var = context
        mean, log_var = mean[:, None, :], log_var[:, None, :]
        codes = latent_losses.reparameterize(mean, log_var, eps)
        return latent_losses.log_importance_weight(self.sample_log_likelihood(context, codes), codes, mean, log_var)

    def posterior_means(self, batch):
        return self.gaussian_posterior(batch)[1]


def missing_members(cls):
    """The required members `cls` does not define, and the class attributes it leaves unset."""

    def defined_by_a_model(name):
        definer = next(k for k in cls.__mro__ if name in vars(k))
        return issubclass(definer, GenerativeModel) and definer is not GenerativeModel

    missing = [m for m in REQUIRED if not defined_by_a_model(m)]
    missing += [a for a in ("family", "monitor") if getattr(cls, a) is None]
    return missing
