// Compiles the engine's modules to bytecode with Pyodide's own Python, for build_site.py:
// CPython's .pyc files only load in the Python version that wrote them, and the build's
// Python is not the browser's. Without them the browser compiles every module on each
// first import, which was most of the engine's import time.
//
//   node build_scripts/compile_pyc.mjs DIR
//
// writes __pycache__/*.pyc next to every .py under DIR, never checked against the source
// (the wheel's files do not change once installed, and unpacking does not keep their
// times); tracebacks name the files where the browser installs them, in site-packages.
import { loadPyodide } from "../node_modules/pyodide/pyodide.mjs";

const [dir] = process.argv.slice(2);
// A fixed hash seed: set constants are stored in hash order, and the build must give the
// same bytes from the same sources (the site's build hash covers them).
const pyodide = await loadPyodide({ env: { PYTHONHASHSEED: "0" } });
pyodide.FS.mkdirTree("/engine");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: dir }, "/engine");
const ok = pyodide.runPython(`
import compileall, py_compile, site
compileall.compile_dir("/engine", ddir=site.getsitepackages()[0], quiet=1,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
`);
if (!ok) {
  console.error(`compile_pyc: some module under ${dir} did not compile`);
  process.exit(1);
}
