"""Where the engine runs: in the browser (Pyodide) or in CPython.

The browser-only modules live in :mod:`pywebcodecs.browser` and are imported only when
``IN_BROWSER`` is true, so the rest of the package imports and runs in plain CPython.
"""

import sys

IN_BROWSER = sys.platform == "emscripten"
