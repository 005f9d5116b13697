// Boots Pyodide from this site (no CDN) and installs the engine wheel with micropip.
// Used by the headless runner page and by Web Workers; the main page uses PyScript,
// which does the same from pyscript.json.
import { loadPyodide } from "./pyodide/pyodide.mjs";

export async function loadEngine() {
  const base = new URL(".", import.meta.url);
  const config = await (await fetch(new URL("engine-config.json", base))).json();
  const pyodide = await loadPyodide({ indexURL: new URL("pyodide/", base).href });
  await pyodide.loadPackage("micropip");
  await pyodide.pyimport("micropip").install(new URL(config.wheel, base).href);
  pyodide.pyimport("pywebcodecs");
  return pyodide;
}
