"""Seeded noise for exported samplers: one generator, specified here and in `web/noise.js`.

`tools/sample.py --export_dir` (SavedModel), `tools/tflite_sample.py` (the
device path) and the browser page (`tools/web.py`) all draw their noise from
this generator, so the same seed gives the same images from every artifact
and every language. The generator is therefore written down exactly, not
borrowed from a library whose algorithm may change between versions:

- Bits: Philox4x32-10 [1], the counter-based generator of TensorFlow's and
  JAX's stateless random ops. Key (seed mod 2^32, seed div 2^32), counter
  (block mod 2^32, block div 2^32, stream, 0); each block gives four 32-bit
  words, used in order. A signature's inputs take streams 0, 1, ... in order.
- Uniform in [0, 1): the top 24 bits of a word times 2^-24 (exact in float32).
- Standard normal: Marsaglia's polar method on consecutive pairs of uniforms
  (u, v) -> (2u - 1, 2v - 1), in float64, with a logarithm built from + - * /
  only (`_log`), so that Python and JavaScript, both IEEE doubles, produce the
  same bits; the result is rounded to float32.
- Uniform in [low, high): low + (high - low) * u in float64, rounded to float32.

[1] Salmon, Moraes, Dror, Shaw 2011, "Parallel random numbers: as easy as
    1, 2, 3", SC'11.
"""

import numpy as np

from tfgen.errors import InvalidArgumentError

MAX_SEED = 2**53 - 1  # the largest integer JavaScript's numbers hold exactly
_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_MASK = np.uint64(0xFFFFFFFF)
_SQRT_HALF = 0.7071067811865476
_LN2 = 0.6931471805599453
_LOG_TERMS = 12  # |t| <= 0.1716, so t^2 ** 12 / 25 < 1e-19: below a double's precision


def philox4x32(counters, key):
    """Philox4x32-10 of counters uint32 [N, 4] under key (k0, k1): uint32 [N, 4]."""
    c = [counters[:, i].astype(np.uint64) for i in range(4)]
    k0, k1 = int(key[0]), int(key[1])
    for i in range(10):
        if i:
            k0, k1 = (k0 + _W0) & 0xFFFFFFFF, (k1 + _W1) & 0xFFFFFFFF
        p0, p1 = _M0 * c[0], _M1 * c[2]
        c = [
            (p1 >> np.uint64(32)) ^ c[1] ^ np.uint64(k0),
            p1 & _MASK,
            (p0 >> np.uint64(32)) ^ c[3] ^ np.uint64(k1),
            p0 & _MASK,
        ]
    return np.stack(c, axis=1).astype(np.uint32)


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= int(seed) <= MAX_SEED:
        raise InvalidArgumentError(f"a noise seed is an integer in [0, 2**53 - 1], got {seed!r}")
    return int(seed)


def words(seed, stream, count, first_block=0):
    """The generator's first `count` 32-bit words for (seed, stream), from block `first_block` on."""
    seed = _check_seed(seed)
    blocks = np.arange(first_block, first_block + (count + 3) // 4, dtype=np.uint64)
    counters = np.stack(
        [blocks & _MASK, blocks >> np.uint64(32), np.full_like(blocks, stream), np.zeros_like(blocks)], axis=1
    ).astype(np.uint32)
    return philox4x32(counters, (seed & 0xFFFFFFFF, seed >> 32)).reshape(-1)[:count]


def uniforms(seed, stream, count, first_block=0):
    """Uniform float64 values in [0, 1), multiples of 2^-24."""
    return (words(seed, stream, count, first_block) >> np.uint32(8)).astype(np.float64) * 2.0**-24


def _log(s):
    """Natural log of float64 s > 0 with + - * / only: s = m 2^e, m in [sqrt(1/2), sqrt(2)), log m by atanh's series."""
    m, e = np.frexp(s)  # exact: m in [0.5, 1)
    low = m < _SQRT_HALF
    m, e = np.where(low, m * 2.0, m), np.where(low, e - 1, e).astype(np.float64)
    t = (m - 1.0) / (m + 1.0)
    t2 = t * t
    p = np.full_like(t, 1.0 / (2 * _LOG_TERMS + 1))
    for k in range(_LOG_TERMS - 1, -1, -1):
        p = p * t2 + 1.0 / (2 * k + 1)
    return e * _LN2 + 2.0 * t * p


def normals(seed, stream, count):
    """Standard normal float32 values by the polar method (see the module docstring)."""
    out, have, block = [], 0, 0
    blocks = max(32, (count + 1) // 2)  # 2 pairs a block, ~79% accepted: a second round is rare
    while have < count:
        u = uniforms(seed, stream, 4 * blocks, first_block=block).reshape(-1, 2)
        block += blocks
        v1, v2 = 2.0 * u[:, 0] - 1.0, 2.0 * u[:, 1] - 1.0
        s = v1 * v1 + v2 * v2
        keep = (s < 1.0) & (s > 0.0)
        v1, v2, s = v1[keep], v2[keep], s[keep]
        f = np.sqrt(-2.0 * _log(s) / s)
        out.append(np.stack([v1 * f, v2 * f], axis=1).reshape(-1))
        have += len(out[-1])
    return np.concatenate(out)[:count].astype(np.float32)


def noise_for(inp, num, seed, stream=0):
    """Noise for one TensorInput: uniform in its range, or standard normal if unbounded."""
    shape = (num, *inp.shape)
    count = int(np.prod(shape))
    if inp.low is not None and inp.high is not None:
        u = uniforms(seed, stream, count)
        return (inp.low + (inp.high - inp.low) * u).astype(np.float32).reshape(shape)
    return normals(seed, stream, count).reshape(shape)


def request_inputs(signature_inputs, num, seed, temperature=1.0, given=None):
    """Inputs for a generating signature: noise, a temperature, and any inputs `given` as they are.

    Input i draws its noise from stream i: uniform if bounded, normal if not;
    `temperature` gets the given value. The SavedModel and TFLite sampling
    tools and the browser page (`request` in web/app.js, which passes the
    image and `num_known` of a completion as `given`) all build their requests
    this way, so the same seed gives the same images.
    """
    given = given or {}
    out = {}
    for stream, inp in enumerate(signature_inputs):
        if inp.name in given:
            out[inp.name] = given[inp.name]
        elif inp.name == "temperature":
            out[inp.name] = np.full((num, *inp.shape), temperature, np.float32)
        elif inp.dtype == "float32":
            out[inp.name] = noise_for(inp, num, seed, stream)
        else:
            raise ValueError(f"input {inp.name!r} is not noise; this signature needs real data")
    return out
