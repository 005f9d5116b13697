// The page's side of convert-worker.mjs: each request is a promise of the worker's answer
// to it, so the page reads like calls while the engine runs on another thread. The worker
// is created here, when the page's script first runs, so the engine starts loading on the
// first paint rather than when a file is chosen.

// The page compiles Pyodide's wasm and hands it to the worker: Chromium then keeps its
// machine code for the next visit, which it does not for a worker's own compile (see
// engine.mjs). The compile streams on the browser's threads, not the page's. If it fails,
// the worker is told so (null) and compiles the wasm itself.
function compilePyodideWasm() {
  const url = new URL("./pyodide/pyodide.asm.wasm", import.meta.url);
  return WebAssembly.compileStreaming(fetch(url)).catch(() => null);
}

export class EngineClient {
  constructor(url = new URL("./convert-worker.mjs?wasm=message", import.meta.url)) {
    this.worker = new Worker(url, { type: "module" });
    compilePyodideWasm().then((wasm) => this.worker.postMessage({ wasm }));
    this.nextId = 1;
    this.pending = new Map();  // id → {resolve, onUpdate}
    this.worker.onmessage = ({ data }) => this.#answer(data);
    this.worker.onerror = (event) => this.#failAll(event.message || "the engine's worker failed");
  }

  // {ok, ready} once the engine runs; onStep(text) hears each start-up step.
  start(onStep) {
    return this.#request({ engine: true }, (data) => data.step && onStep(data.step));
  }

  // {ok, info} or {ok: false, error, errorName} for a File or URL.
  inspect(file) {
    return this.#request({ inspect: file });
  }

  // {id, done}: done is the promise of the conversion's answer; cancel(id) aborts it.
  convert(file, options, onProgress) {
    const id = this.nextId;
    const done = this.#request({ file, ...options }, (data) => data.progress && onProgress(data.progress));
    return { id, done };
  }

  cancel(id) {
    this.worker.postMessage({ id, cancel: true });
  }

  // {ok, removed}: deletes conversion id's output from disk, if the engine wrote it there
  // (OPFS, for a large input); call it once the page no longer shows or offers it.
  remove(id) {
    return this.#request({ remove: true }, undefined, id);
  }

  #request(message, onUpdate = () => {}, id = this.nextId++) {
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, onUpdate });
      this.worker.postMessage({ id, ...message });
    });
  }

  #answer(data) {
    const waiting = this.pending.get(data.id);
    if (!waiting) return;
    if ("ok" in data) {
      this.pending.delete(data.id);
      waiting.resolve(data);
    } else {
      waiting.onUpdate(data);
    }
  }

  #failAll(error) {
    for (const [id, waiting] of this.pending) {
      waiting.resolve({ id, ok: false, error, errorName: "Error" });
    }
    this.pending.clear();
  }
}
