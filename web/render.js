// Pictures and sound as the Python tools make them (tfgen/visualize.py, tfgen/audio.py),
// so that the page's canvas equals the PNG tools/tflite_sample.py writes, pixel for pixel.

export const COVER_RGB = [200, 60, 200]; // covered pixels, as visualize.COVER_RGB

// numpy's round: half to even.
function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// An export's output images [n, h, w, c] -> RGB bytes [n, h, w, 3] (visualize.render_export).
// Floats are colours in [0, 1] (rounded as numpy does, in float32); integers are palette indices.
export function toRgb(values, n, h, w, c, palette) {
  const rgb = new Uint8Array(n * h * w * 3);
  const isFloat = values instanceof Float32Array || values instanceof Float64Array;
  for (let p = 0; p < n * h * w; p++) {
    for (let k = 0; k < 3; k++) {
      let v;
      if (isFloat) {
        v = roundHalfEven(Math.fround(values[p * c + (c === 3 ? k : 0)] * 255));
        v = Math.min(255, Math.max(0, v));
      } else if (c === 3) {
        v = values[p * 3 + k] & 0xff;
      } else {
        v = palette[values[p]][k];
      }
      rgb[p * 3 + k] = v;
    }
  }
  return rgb;
}

// Paints raster positions >= numKnown of every image with COVER_RGB (visualize.cover).
export function cover(rgb, n, h, w, numKnown) {
  const out = rgb.slice();
  for (let i = 0; i < n; i++)
    for (let p = numKnown; p < h * w; p++) out.set(COVER_RGB, (i * h * w + p) * 3);
  return out;
}

export function upscaleFactor(height, target = 80) {
  return Math.max(1, Math.floor(target / height));
}

// Tiles RGB images into one enlarged RGBA picture (visualize.grid): {width, height, data}.
export function grid(rgb, n, h, w, { cols = null, pad = 2, scale = null, background = 255 } = {}) {
  scale = scale || upscaleFactor(h);
  cols = cols || Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const hh = h * scale, ww = w * scale;
  const width = cols * (ww + pad) + pad, height = rows * (hh + pad) + pad;
  const data = new Uint8ClampedArray(width * height * 4).fill(background);
  for (let k = 0; k < n; k++) {
    const top = pad + Math.floor(k / cols) * (hh + pad), left = pad + (k % cols) * (ww + pad);
    for (let y = 0; y < hh; y++)
      for (let x = 0; x < ww; x++) {
        const src = ((k * h + Math.floor(y / scale)) * w + Math.floor(x / scale)) * 3;
        const dst = ((top + y) * width + left + x) * 4;
        data[dst] = rgb[src];
        data[dst + 1] = rgb[src + 1];
        data[dst + 2] = rgb[src + 2];
      }
  }
  return { width, height, data };
}

// mu-law classes -> floats in [-1, 1] (audio.mu_law_decode).
export function muLawDecode(classes, numClasses) {
  const mu = numClasses - 1;
  const out = new Float32Array(classes.length);
  for (let i = 0; i < classes.length; i++) {
    const c = (2 * classes[i]) / mu - 1;
    out[i] = (Math.sign(c) * Math.expm1(Math.abs(c) * Math.log1p(mu))) / mu;
  }
  return out;
}

// A 16-bit PCM mono WAV file of floats in [-1, 1].
export function wavBytes(samples, sampleRate) {
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buffer);
  const text = (offset, s) => [...s].forEach((ch, i) => view.setUint8(offset + i, ch.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + samples.length * 2, true);
  text(8, "WAVEfmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, "data");
  view.setUint32(40, samples.length * 2, true);
  samples.forEach((s, i) => view.setInt16(44 + i * 2, Math.round(Math.max(-1, Math.min(1, s)) * 32767), true));
  return new Uint8Array(buffer);
}
