"""The bridge to the browser: the only package that imports ``js`` and ``pyodide``.

It turns browser objects into the engine's interfaces (``File``/``Blob``/URL → Source, a
chunk list → Sink, WebCodecs decoders and encoders → pipeline stages) and sends the usage
event. Media pixels and samples stay in the browser; only encoded bytes cross into Python.
"""
