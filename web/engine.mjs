// The engine for JavaScript: boots Pyodide from this site (no CDN), unpacks the engine
// wheel into site-packages and starts the usage outbox, once per page or worker.
// Used by the headless runner page, the Web Worker and your own pages; the main page
// uses PyScript, which does the same from pyscript.json.
import { loadPyodide } from "./pyodide/pyodide.mjs";

let engine = null;

// The Pyodide instance with pywebcodecs imported; every call returns the same one.
// onStep(text), if given to the call that starts the boot, hears each start-up step.
// wasm, for a worker, is Pyodide's pyodide.asm.wasm compiled by its page: a
// WebAssembly.Module, or a promise of one (or of null: then it is compiled here).
export function loadEngine({ onStep = () => {}, wasm = null } = {}) {
  engine ??= boot(onStep, wasm).catch((error) => {
    engine = null;  // a failed boot (e.g. offline before the first visit) may be retried
    throw error;
  });
  return engine;
}

async function boot(onStep, wasm) {
  const base = new URL(".", import.meta.url);
  onStep("Loading Python (Pyodide)");
  // The wheel downloads while Pyodide boots. It is pure Python with no dependencies, so it
  // is unpacked straight into site-packages: micropip would first have to be downloaded,
  // unpacked and imported, only to resolve dependencies the engine does not have.
  const wheel = fetchWheel(base);
  wheel.catch(() => {});  // awaited below; a failure must not also be an unhandled rejection
  const indexURL = new URL("pyodide/", base).href;
  const pyodide = await withCompiledWasm(wasm, () => loadPyodide({ indexURL }));
  onStep("Installing the engine (pywebcodecs)");
  const sitePackages = pyodide.runPython("import site; site.getsitepackages()[0]");
  pyodide.unpackArchive(await wheel, "wheel", { extractDir: sitePackages });
  onStep("Starting the engine");
  pyodide.pyimport("pywebcodecs");
  // Usage events kept while offline leave now, and whenever the browser is back online.
  pyodide.pyimport("pywebcodecs.browser.telemetry").start_outbox();
  return pyodide;
}

// Chromium keeps the machine code of a wasm module across visits (its code cache) when a
// page compiled it, but not when a dedicated worker did: the worker's boot compiled about
// 2800 of Pyodide's functions again on every visit, against 3 on a repeat visit with its
// page's module (Chromium 156 traces). Pyodide takes no compiled module, so while it
// boots its one WebAssembly.instantiateStreaming call is answered with this one (and the
// download it started is dropped).
async function withCompiledWasm(wasm, load) {
  if (!wasm) return load();
  const { instantiateStreaming } = WebAssembly;
  WebAssembly.instantiateStreaming = async (source, imports) => {
    const module = await wasm;
    if (!module) return instantiateStreaming(source, imports);
    (await source).body?.cancel();
    return { module, instance: await WebAssembly.instantiate(module, imports) };
  };
  try {
    return await load();
  } finally {
    WebAssembly.instantiateStreaming = instantiateStreaming;
  }
}

async function fetchWheel(base) {
  const fetchOk = async (url) => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
    return response;
  };
  const config = await (await fetchOk(new URL("engine-config.json", base))).json();
  return (await fetchOk(new URL(config.wheel, base))).arrayBuffer();
}

// Converts a File, Blob or URL. Options (each may be left out, null or undefined):
// container ("webm", "mp4", "mkv", "wav"), videoCodec, audioCodec ("copy", "drop" or a
// codec), rotate, resize ([width, height]), apiKey, onProgress(progress), signal.
// Resolves to {blob, mimeType, summary, tracks, warnings}; rejects with an Error whose
// name is the engine's error class (FormatError, UnsupportedError, OptionError, ...).
export async function convertMedia(src, options = {}) {
  const pyodide = await loadEngine();
  const answer = await pyodide.pyimport("pywebcodecs.browser.js_api").convert(src, options);
  if (!answer.ok) {
    const error = new Error(answer.error);
    error.name = answer.errorName;
    throw error;
  }
  const { ok, ...result } = answer;
  return result;
}
