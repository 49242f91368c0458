// The sampling page: loads a tfgen TFLite export (tfgen.json beside the .tflite file), runs its
// signatures with LiteRT.js on the CPU (WebAssembly) and draws or plays what they return.
//
// URL parameters preset the form (model, variant, signature, num, seed, temperature, covered,
// source) and run=1 presses the button once the model is loaded.

import { Tensor, loadAndCompile, loadLiteRt } from "@litertjs/core";
import { noiseFor } from "./noise.js";
import { cover, grid, muLawDecode, toRgb, wavBytes } from "./render.js";
import { withBatch } from "./tflite_batch.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const state = { models: [], entry: null, bytes: null, file: null, compiled: new Map(), samples: null, uploaded: null };

function setStatus(status, text) {
  document.body.dataset.status = status;
  $("status").textContent = text ?? status;
}

// A model that failed to load keeps the button disabled; a bad request leaves it on, to try again.
function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
  $("run").disabled = state.bytes === null;
  setStatus("error", "error");
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

function fill(select, values, chosen) {
  select.replaceChildren(
    ...values.map(([value, text]) => Object.assign(document.createElement("option"), { value, textContent: text })),
  );
  if (chosen !== null && values.some(([v]) => String(v) === chosen)) select.value = chosen;
}

// Signatures the page can run: noise-and-temperature ones (sampling) and, for images, `complete`.
function runnable(metadata) {
  const sampling = (s) => s.inputs.every((i) => i.name === "temperature" || i.dtype === "float32");
  return Object.entries(metadata.signatures)
    .filter(([, s]) => s.tflite !== false)
    .filter(([name, s]) => (name === "complete" ? metadata.kind === "image" : sampling(s)))
    .map(([name]) => name);
}

function defaultSignature(metadata, names) {
  if (names.includes(metadata.default_signature)) return metadata.default_signature;
  return names.find((n) => n === "sample" || n === "generate") ?? names[0];
}

const isTflite = (bytes) => bytes.length >= 8 && String.fromCharCode(...bytes.slice(4, 8)) === "TFL3";

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

// tfgen.json must describe this file: every TFLite signature it lists, with the same inputs.
function checkMatches(metadata, compiled, file) {
  const problems = [];
  for (const name of runnable(metadata)) {
    const runner = compiled.signatures[name];
    if (!runner) {
      problems.push(`signature '${name}' is in tfgen.json but not in the model (it has ${Object.keys(compiled.signatures).join(", ")})`);
      continue;
    }
    const actual = new Map(runner.getInputDetails().map((d) => [d.name, d]));
    for (const input of metadata.signatures[name].inputs) {
      const d = actual.get(input.name);
      if (!d) {
        problems.push(`${name}: tfgen.json's input '${input.name}' is not in the model (it has ${[...actual.keys()].join(", ")})`);
      } else if (d.shape.length !== input.shape.length + 1 || input.shape.some((n, i) => d.shape[i + 1] !== n)) {
        problems.push(`${name}: input '${input.name}' is [B, ${input.shape}] in tfgen.json but [${[...d.shape]}] in the model`);
      }
    }
  }
  if (problems.length) throw new Error(`tfgen.json does not match ${file}:\n${problems.join("\n")}`);
}

function forgetCompiled() {
  state.compiled.forEach((model) => model.delete());
  state.compiled.clear();
}

// The model compiled for a batch of `num` (LiteRT.js runs only declared shapes; see tflite_batch.js).
async function compiledFor(num) {
  if (!state.compiled.has(num)) {
    let model;
    try {
      model = await loadAndCompile(withBatch(state.bytes, num), { accelerator: "wasm" });
    } catch (e) {
      throw new Error(`${state.file}: LiteRT.js could not load it (${e.message ?? e})`);
    }
    state.compiled.set(num, model);
  }
  return state.compiled.get(num);
}

async function loadModel() {
  clearError();
  $("run").disabled = true;
  forgetCompiled();
  const entry = state.models[Number($("model").value)];
  const file = `${entry.url}${$("variant").value}.tflite`;
  setStatus("loading", `loading ${file}…`);
  state.entry = entry;
  state.bytes = null;
  const bytes = await fetchBytes(file);
  if (!isTflite(bytes)) throw new Error(`${file} is not a TFLite model (no TFL3 identifier in its header)`);
  [state.bytes, state.file] = [bytes, file];
  try {
    checkMatches(entry.metadata, await compiledFor(1), file);
  } catch (e) {
    state.bytes = null;
    forgetCompiled();
    throw e;
  }
  $("run").disabled = false;
  setStatus("ready", `${entry.name} (${$("variant").value}) loaded`);
}

function signatureChanged() {
  const name = $("signature").value;
  const signature = state.entry.metadata.signatures[name];
  $("doc").textContent = signature?.doc ? `${name}: ${signature.doc}` : "";
  $("complete-options").hidden = name !== "complete";
  $("temperature").disabled = !signature?.inputs.some((i) => i.name === "temperature");
  $("run").textContent = name === "complete" ? "Complete" : "Sample";
}

function modelChanged() {
  const metadata = state.models[Number($("model").value)].metadata;
  fill($("variant"), (metadata.tflite_variants ?? ["float32"]).map((v) => [v, v]), params.get("variant"));
  const names = runnable(metadata);
  fill($("signature"), names.map((n) => [n, n]), params.get("signature") ?? defaultSignature(metadata, names));
  state.samples = null;
  updateSources();
}

function updateSources() {
  const options = (state.samples?.images ?? []).map((_, i) => [`sample:${i}`, `sample ${i + 1} of the last draw`]);
  if (state.uploaded) options.push(["upload", "the uploaded image"]);
  fill($("source"), options, params.get("source") ? `sample:${params.get("source")}` : null);
}

function readNumber(id, { integer = false, min = -Infinity, max = Infinity } = {}) {
  const text = $(id).value.trim();
  const value = Number(text);
  if (text === "" || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `in ${min}..${max}`;
    throw new Error(`${id}: expected ${integer ? "an integer" : "a number"} ${range}, got '${text}'`);
  }
  return value;
}

// The request, built as export/noise.py's request_inputs builds it: input i draws stream i.
function request(metadata, name, num, seed, temperature, given = {}) {
  const inputs = {};
  metadata.signatures[name].inputs.forEach((input, stream) => {
    const shape = [num, ...input.shape];
    if (input.name in given) inputs[input.name] = new Tensor(given[input.name], shape);
    else if (input.name === "temperature") inputs[input.name] = new Tensor(new Float32Array(num).fill(temperature), shape);
    else inputs[input.name] = new Tensor(noiseFor(input, num, seed, stream), shape);
  });
  return inputs;
}

async function run(name, num, inputs) {
  try {
    const outputs = await (await compiledFor(num)).run(name, inputs);
    const arrays = {};
    for (const [key, tensor] of Object.entries(outputs)) {
      arrays[key] = tensor.toTypedArray().slice();
      tensor.delete();
    }
    return arrays;
  } finally {
    Object.values(inputs).forEach((t) => t.delete());
  }
}

function draw(canvas, picture) {
  canvas.width = picture.width;
  canvas.height = picture.height;
  canvas.getContext("2d").putImageData(new ImageData(picture.data, picture.width, picture.height), 0, 0);
  // Shown twice as large when small (nearest neighbour, style.css); the canvas keeps the tools' pixels.
  canvas.style.width = `${picture.width * (picture.width < 500 ? 2 : 1)}px`;
  canvas.hidden = false;
}

function showAudio(classes, num, metadata) {
  const length = classes.length / num;
  const box = $("audio");
  box.replaceChildren();
  for (let i = 0; i < num; i++) {
    const clip = muLawDecode(classes.subarray(i * length, (i + 1) * length), metadata.num_classes);
    const url = URL.createObjectURL(new Blob([wavBytes(clip, metadata.sample_rate)], { type: "audio/wav" }));
    const row = document.createElement("div");
    row.append(`clip ${i + 1} (${(length / metadata.sample_rate).toFixed(2)} s) `);
    row.append(Object.assign(document.createElement("audio"), { controls: true, src: url }));
    box.append(row);
  }
}

// Word ids [num, T] (0 after the end) -> one sentence per line.
function showText(tokens, num, metadata) {
  const length = tokens.length / num;
  for (let i = 0; i < num; i++) {
    const ids = Array.from(tokens.subarray(i * length, (i + 1) * length));
    const end = ids.indexOf(0);
    const words = (end < 0 ? ids : ids.slice(0, end)).map((id) => metadata.vocabulary[id] ?? `<${id}>`);
    $("text").append(Object.assign(document.createElement("li"), { textContent: words.join(" ") }));
  }
}

// A PNG (or other picture) -> palette indices [H, W] by the nearest palette colour.
async function uploadedIndices(file, metadata) {
  const [h, w] = metadata.image_shape;
  const bitmap = await createImageBitmap(file);
  const canvas = new OffscreenCanvas(w, h);
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = false;
  context.drawImage(bitmap, 0, 0, w, h);
  const pixels = context.getImageData(0, 0, w, h).data;
  const indices = new Int32Array(h * w);
  for (let p = 0; p < h * w; p++) {
    let best = 0, bestDistance = Infinity;
    metadata.palette.forEach((colour, k) => {
      const d = colour.reduce((s, c, j) => s + (c - pixels[p * 4 + j]) ** 2, 0);
      if (d < bestDistance) [best, bestDistance] = [k, d];
    });
    indices[p] = best;
  }
  return indices;
}

async function sample(event) {
  event?.preventDefault();
  clearError();
  const metadata = state.entry.metadata;
  const name = $("signature").value;
  const num = readNumber("num", { integer: true, min: 1, max: metadata.max_batch });
  const seed = readNumber("seed", { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER });
  const temperature = $("temperature").disabled ? 1 : readNumber("temperature", { min: Number.MIN_VALUE });
  const [h, w] = metadata.image_shape ?? [0, 0];
  let c = metadata.image_shape?.[2] ?? 0; // palette images; generated colours may be RGB (set from the output)
  setStatus("running", `running ${name}…`);
  $("run").disabled = true;
  await compiledFor(num); // once per batch size, and not part of the sampling time
  const started = performance.now();
  let outputs;
  let given = {};
  let numKnown = 0;
  if (name === "complete") {
    const source = $("source").value;
    if (!source) throw new Error("complete: draw samples first (or upload an image) to choose the image to complete");
    const image = source === "upload" ? state.uploaded : state.samples.images[Number(source.split(":")[1])];
    numKnown = Math.round(h * w * (1 - Number($("covered").value)));
    const images = new Int32Array(num * h * w);
    for (let i = 0; i < num; i++) images.set(image, i * h * w);
    given = { images, num_known: new Int32Array(num).fill(numKnown) };
    draw($("original"), grid(cover(toRgb(image, 1, h, w, c, metadata.palette), 1, h, w, numKnown), 1, h, w));
  } else {
    $("original").hidden = true;
  }
  outputs = await run(name, num, request(metadata, name, num, seed, temperature, given));
  const seconds = (performance.now() - started) / 1000;
  window.tfgenOutputs = outputs; // what the signature returned, for tests and the console
  $("audio").replaceChildren();
  $("text").replaceChildren();
  if ("audio" in outputs) {
    $("canvas").hidden = true;
    showAudio(outputs.audio, num, metadata);
  } else if ("tokens" in outputs) {
    $("canvas").hidden = true;
    showText(outputs.tokens, num, metadata);
  } else {
    c = outputs.images.length / (num * h * w);
    draw($("canvas"), grid(toRgb(outputs.images, num, h, w, c, metadata.palette), num, h, w));
    if (name !== "complete" && outputs.images instanceof Int32Array) {
      const size = h * w * c;
      state.samples = { images: Array.from({ length: num }, (_, i) => outputs.images.slice(i * size, (i + 1) * size)) };
      updateSources();
    }
  }
  document.body.dataset.seconds = String(seconds);
  setStatus("done", `${name}: ${num} in ${seconds.toFixed(3)} s (${(num / seconds).toFixed(2)} per second)`);
  $("run").disabled = false;
}

const guarded = (fn) => async (...args) => {
  try {
    await fn(...args);
  } catch (e) {
    showError(e.message ?? String(e));
  }
};

async function main() {
  for (const id of ["num", "seed", "temperature", "covered"]) if (params.has(id)) $(id).value = params.get(id);
  const response = await fetch("models.json");
  if (!response.ok) throw new Error(`models.json: HTTP ${response.status}`);
  state.models = await response.json();
  if (!state.models.length) throw new Error("no models are served; start tools/web.py with --export_dir");
  fill($("model"), state.models.map((m, i) => [i, m.name]), params.get("model"));
  modelChanged();
  await loadLiteRt("/vendor/@litertjs/core/wasm/");
  await loadModel();
  signatureChanged();
  $("model").addEventListener("change", guarded(async () => { modelChanged(); signatureChanged(); await loadModel(); }));
  $("variant").addEventListener("change", guarded(loadModel));
  $("signature").addEventListener("change", signatureChanged);
  $("controls").addEventListener("submit", guarded(sample));
  $("upload").addEventListener("change", guarded(async () => {
    state.uploaded = await uploadedIndices($("upload").files[0], state.entry.metadata);
    updateSources();
    $("source").value = "upload";
  }));
  if (params.get("run") === "1") await sample();
}

guarded(main)();
