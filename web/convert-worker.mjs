// Runs conversions off the main thread: the engine in a module Web Worker.
// Post {id, file, container, videoCodec, audioCodec, apiKey}; the worker answers
// {id, progress} while converting, then {id, ok: true, blob, summary} or {id, ok: false, error}.
import { loadEngine } from "./engine.mjs";

const ready = loadEngine().then((pyodide) => {
  pyodide.pyimport("pywebcodecs.browser.telemetry").start_outbox();
  return pyodide.runPython(`
import asyncio
from pywebcodecs import convert_media, PyWebCodecsError
from pywebcodecs.browser.interop import js_object, wants_js

async def convert(file, container, video_codec, audio_codec, api_key, on_progress):
    try:
        result = await convert_media(file, container, video_codec=video_codec,
                                     audio_codec=audio_codec, api_key=api_key,
                                     on_progress=on_progress)
        answer = {"ok": True, "blob": result.save(), "summary": wants_js(result.progress)}
    except PyWebCodecsError as exc:
        answer = {"ok": False, "error": str(exc)}
    # One turn of the event loop lets the usage event's request leave before the page,
    # having its answer, may terminate this worker (the request is sent with keepalive).
    await asyncio.sleep(0)
    return js_object(answer)
convert
`);
});

self.onmessage = async ({ data }) => {
  const convert = await ready;
  const onProgress = (progress) => self.postMessage({ id: data.id, progress });
  const answer = await convert(data.file, data.container ?? "webm", data.videoCodec ?? null,
    data.audioCodec ?? null, data.apiKey ?? null, onProgress);
  self.postMessage({ id: data.id, ...answer });
};
