// Runs conversions off the main thread: the engine in a module Web Worker.
// Post {id, file, ...options} with convertMedia's options (container, videoCodec,
// audioCodec, rotate, resize, apiKey; any may be left out or null). The worker answers
// {id, progress} while converting, then {id, ok: true, blob, mimeType, summary, tracks,
// warnings} (tracks: what became of each input track: track_id, kind, input_codec, action,
// output_codec, note) or {id, ok: false, error, errorName}.
import { loadEngine } from "./engine.mjs";

const ready = loadEngine().then((pyodide) => pyodide.pyimport("pywebcodecs.browser.js_api"));

self.onmessage = async ({ data }) => {
  const { id, file, ...options } = data ?? {};
  const onProgress = (progress) => self.postMessage({ id, progress });
  let answer;
  try {
    answer = await (await ready).convert(file, { ...options, onProgress });
  } catch (error) {  // the engine did not start, or a bug of ours: answer, never hang
    answer = { ok: false, error: String(error?.message ?? error), errorName: "Error" };
  }
  self.postMessage({ id, ...answer });
};
