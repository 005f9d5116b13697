// The engine for JavaScript: boots Pyodide from this site (no CDN), unpacks the engine
// wheel into site-packages and starts the usage outbox, once per page or worker.
// Used by the headless runner page, the Web Worker and your own pages; the main page
// uses PyScript, which does the same from pyscript.json.
import { loadPyodide } from "./pyodide/pyodide.mjs";

let engine = null;

// The Pyodide instance with pywebcodecs imported; every call returns the same one.
// onStep(text), if given to the call that starts the boot, hears each start-up step.
export function loadEngine({ onStep = () => {} } = {}) {
  engine ??= boot(onStep).catch((error) => {
    engine = null;  // a failed boot (e.g. offline before the first visit) may be retried
    throw error;
  });
  return engine;
}

async function boot(onStep) {
  const base = new URL(".", import.meta.url);
  onStep("Loading Python (Pyodide)");
  // The wheel downloads while Pyodide boots. It is pure Python with no dependencies, so it
  // is unpacked straight into site-packages: micropip would first have to be downloaded,
  // unpacked and imported, only to resolve dependencies the engine does not have.
  const wheel = fetchWheel(base);
  wheel.catch(() => {});  // awaited below; a failure must not also be an unhandled rejection
  const pyodide = await loadPyodide({ indexURL: new URL("pyodide/", base).href });
  onStep("Installing the engine (pywebcodecs)");
  const sitePackages = pyodide.runPython("import site; site.getsitepackages()[0]");
  pyodide.unpackArchive(await wheel, "wheel", { extractDir: sitePackages });
  onStep("Starting the engine");
  pyodide.pyimport("pywebcodecs");
  // Usage events kept while offline leave now, and whenever the browser is back online.
  pyodide.pyimport("pywebcodecs.browser.telemetry").start_outbox();
  return pyodide;
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
