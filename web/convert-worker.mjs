// Runs the engine off the main thread: Pyodide and pywebcodecs in a module Web Worker, so
// a page stays responsive while a file converts. The engine starts loading as soon as the
// worker exists. Messages (every answer carries the message's id):
//
// {id, file, ...options}  converts file (a File, Blob or URL) with convertMedia's options
//     (container, videoCodec, audioCodec, rotate, resize, apiKey; any may be left out or
//     null) and trackChoices ({trackId: "copy" | "drop" | codec}, per input track). It
//     answers {id, progress} while converting, then {id, ok: true, blob, mimeType, summary,
//     tracks, warnings} (tracks: what became of each input track: track_id, kind,
//     input_codec, action, output_codec, note) or {id, ok: false, error, errorName}.
// {id, cancel: true}      aborts conversion id: it answers errorName "ConversionAborted".
// {id, remove: true}      deletes the output of conversion id from disk once the page is
//     done with it: answers {id, ok: true, removed} (removed: whether there was a file
//     this engine had made in the Origin Private File System, for sink "opfs" or a large
//     input; a Blob in memory or a file the user picked is left alone). Without it, each
//     OPFS output stays on disk after the page has read it.
// {id, inspect: file}     answers {id, ok: true, info} (parse_media's description plus,
//     per track, the codecs this browser can encode, and what "automatic" does in each
//     container: see pywebcodecs/browser/inspection.py) or {id, ok: false, error, errorName}.
// {id, engine: true}      answers {id, step} for each start-up step (past ones too), then
//     {id, ok: true, ready: true} or {id, ok: false, error, errorName}.
//
// Created as convert-worker.mjs?wasm=message (engine-client.mjs does), the worker takes
// Pyodide's wasm from the page's first message, {wasm: a WebAssembly.Module or null}: a
// page compiles it once for every visit (see engine.mjs), a worker on every visit.
import { loadEngine } from "./engine.mjs";

const steps = [];
const listeners = new Set();
const onStep = (step) => {
  steps.push(step);
  for (const listener of listeners) listener(step);
};
const fromPage = new URL(import.meta.url).searchParams.get("wasm") === "message";
const wasm = fromPage && new Promise((resolve) => {
  self.addEventListener("message", ({ data }) => data?.wasm !== undefined && resolve(data.wasm));
});
const engine = loadEngine({ onStep, wasm });
const ready = engine.then((pyodide) => pyodide.pyimport("pywebcodecs.browser.js_api"));
const running = new Map();  // id → AbortController of a conversion in progress
// id → the File on disk a finished conversion answered (a Blob in memory is not kept:
// holding it here would keep it alive after the page let it go).
const outputs = new Map();

// Only the engine knows which files it made in OPFS: it is asked, so a file the user
// picked is never deleted however it is named.
async function remove(id) {
  const output = outputs.get(id);
  outputs.delete(id);
  if (!output) return { ok: true, removed: false };
  const sinks = (await engine).pyimport("pywebcodecs.browser.sinks");
  return { ok: true, removed: await sinks.remove_output(output) };
}

async function convert(id, { file, trackChoices, ...options }) {
  const controller = new AbortController();
  running.set(id, controller);
  const choices = trackChoices ?? {};
  const choose = (track) => choices[track.id] ?? undefined;  // undefined: the default
  try {
    const api = await ready;
    return await api.convert(file, {
      ...options,
      onProgress: (progress) => self.postMessage({ id, progress }),
      onVideoTrack: choose,
      onAudioTrack: choose,
      signal: controller.signal,
    });
  } finally {
    running.delete(id);
  }
}

async function reportStartup(id) {
  const tell = (step) => self.postMessage({ id, step });
  steps.forEach(tell);
  listeners.add(tell);
  try {
    await ready;
    return { ok: true, ready: true };
  } finally {
    listeners.delete(tell);
  }
}

self.onmessage = async ({ data }) => {
  const { id, ...message } = data ?? {};
  if (message.wasm !== undefined) return;  // Pyodide's compiled wasm, taken above
  if (message.cancel) {
    running.get(id)?.abort();
    return;
  }
  let answer;
  try {
    if (message.engine) answer = await reportStartup(id);
    else if ("inspect" in message) answer = await (await ready).inspect(message.inspect);
    else if (message.remove) answer = await remove(id);
    else {
      answer = await convert(id, message);
      if (answer.ok && answer.blob instanceof File) outputs.set(id, answer.blob);
    }
  } catch (error) {  // the engine did not start, or a bug of ours: answer, never hang
    answer = { ok: false, error: String(error?.message ?? error), errorName: "Error" };
  }
  self.postMessage({ id, ...answer });
};
