// Seeded noise: the generator specified in export/noise.py, bit for bit.
//
// Philox4x32-10 words -> uniforms (top 24 bits x 2^-24) -> normals by the polar
// method with a logarithm made of + - * / only, so that this file and numpy (IEEE
// doubles both) give the same float32 values for the same seed and stream.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const SQRT_HALF = 0.7071067811865476;
const LN2 = 0.6931471805599453;
const LOG_TERMS = 12;
export const MAX_SEED = Number.MAX_SAFE_INTEGER; // 2^53 - 1, as in Python

// [high, low] 32-bit halves of the 64-bit product of two uint32s (exact: 16-bit limbs).
function mulHiLo(a, b) {
  const aHi = a >>> 16, aLo = a & 0xffff, bHi = b >>> 16, bLo = b & 0xffff;
  const t = aLo * bLo, m1 = aHi * bLo, m2 = aLo * bHi;
  const mid = (t >>> 16) + (m1 & 0xffff) + (m2 & 0xffff);
  const hi = (aHi * bHi + (m1 >>> 16) + (m2 >>> 16) + Math.floor(mid / 65536)) >>> 0;
  return [hi, Math.imul(a, b) >>> 0];
}

// Philox4x32-10 of one counter (4 uint32s) under key (k0, k1).
export function philox4x32(counter, key) {
  let [c0, c1, c2, c3] = counter.map((x) => x >>> 0);
  let k0 = key[0] >>> 0, k1 = key[1] >>> 0;
  for (let i = 0; i < 10; i++) {
    if (i) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const [hi0, lo0] = mulHiLo(M0, c0);
    const [hi1, lo1] = mulHiLo(M1, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
  }
  return [c0, c1, c2, c3];
}

function checkSeed(seed) {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`a noise seed is an integer in [0, 2**53 - 1], got ${seed}`);
  }
}

// A stream of uniforms in [0, 1) for (seed, stream), block 0 on.
export function uniformStream(seed, stream) {
  checkSeed(seed);
  const key = [seed % 2 ** 32, Math.floor(seed / 2 ** 32)];
  let block = 0, words = [], next = 4;
  return () => {
    if (next === 4) {
      words = philox4x32([block % 2 ** 32, Math.floor(block / 2 ** 32), stream, 0], key);
      block += 1;
      next = 0;
    }
    return (words[next++] >>> 8) * 2 ** -24;
  };
}

export function log(s) {
  let m = s, e = 0;
  while (m >= 1) { m /= 2; e += 1; } // frexp: s = m 2^e with m in [0.5, 1), exactly
  while (m < 0.5) { m *= 2; e -= 1; }
  if (m < SQRT_HALF) { m *= 2; e -= 1; }
  const t = (m - 1) / (m + 1);
  const t2 = t * t;
  let p = 1 / (2 * LOG_TERMS + 1);
  for (let k = LOG_TERMS - 1; k >= 0; k--) p = p * t2 + 1 / (2 * k + 1);
  return e * LN2 + 2 * t * p;
}

// `count` uniforms in [low, high) (float32).
export function uniforms(seed, stream, count, low = 0, high = 1) {
  const next = uniformStream(seed, stream);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = low + (high - low) * next();
  return out;
}

// `count` standard normals (float32), polar method.
export function normals(seed, stream, count) {
  const next = uniformStream(seed, stream);
  const out = new Float32Array(count);
  let i = 0;
  while (i < count) {
    const v1 = 2 * next() - 1, v2 = 2 * next() - 1;
    const s = v1 * v1 + v2 * v2;
    if (!(s < 1 && s > 0)) continue;
    const f = Math.sqrt((-2 * log(s)) / s);
    out[i++] = v1 * f;
    if (i < count) out[i++] = v2 * f;
  }
  return out;
}

// Noise for one declared input (an entry of tfgen.json's signature inputs) and a batch of `num`.
export function noiseFor(input, num, seed, stream) {
  const count = num * input.shape.reduce((a, b) => a * b, 1);
  if (input.low !== null && input.high !== null) return uniforms(seed, stream, count, input.low, input.high);
  return normals(seed, stream, count);
}
