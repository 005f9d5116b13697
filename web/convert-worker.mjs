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
// {id, inspect: file}     answers {id, ok: true, info} (parse_media's description plus,
//     per track, the codecs this browser can encode, and what "automatic" does in each
//     container: see pywebcodecs/browser/inspection.py) or {id, ok: false, error, errorName}.
// {id, engine: true}      answers {id, step} for each start-up step (past ones too), then
//     {id, ok: true, ready: true} or {id, ok: false, error, errorName}.
import { loadEngine } from "./engine.mjs";

const steps = [];
const listeners = new Set();
const onStep = (step) => {
  steps.push(step);
  for (const listener of listeners) listener(step);
};
const ready = loadEngine({ onStep }).then((pyodide) => pyodide.pyimport("pywebcodecs.browser.js_api"));
const running = new Map();  // id → AbortController of a conversion in progress

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
  if (message.cancel) {
    running.get(id)?.abort();
    return;
  }
  let answer;
  try {
    if (message.engine) answer = await reportStartup(id);
    else if ("inspect" in message) answer = await (await ready).inspect(message.inspect);
    else answer = await convert(id, message);
  } catch (error) {  // the engine did not start, or a bug of ours: answer, never hang
    answer = { ok: false, error: String(error?.message ?? error), errorName: "Error" };
  }
  self.postMessage({ id, ...answer });
};
