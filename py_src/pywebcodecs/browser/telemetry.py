"""Sending the usage event from the browser, in a Window or a Worker.

- The origin comes from ``globalThis.location``, which Workers have too (the reference
  client reads ``window.location`` and is silent in Workers).
- It never delays or fails a conversion: :func:`report_usage` only schedules a task.
- Network errors and time-outs (10 s) are retried after 1, 2 and 4 s with the same
  ``eventId``, so a retry of a request that did arrive is counted once by the service.
- Offline (or out of retries on network errors), the event is kept in IndexedDB and sent
  when the browser reports ``online`` again, or when the engine next loads.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import js
from pyodide.code import run_js
from pyodide.ffi import JsException, create_proxy

from ..usage import RETRY_DELAYS, TIMEOUT_SECONDS, usage_endpoint, usage_event
from .interop import js_error_message, js_object

_tasks: set[asyncio.Task[None]] = set()
_outbox: Any = None
_online_listener: Any = None

# Promise wrappers around IndexedDB's request/transaction events.
_OUTBOX_JS = """
(() => {
  const open = () => new Promise((resolve, reject) => {
    const request = indexedDB.open("pywebcodecs-usage", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("pending", { keyPath: "id" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const run = async (mode, work) => {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction("pending", mode);
      const request = work(tx.objectStore("pending"));
      tx.oncomplete = () => { db.close(); resolve(request.result); };
      tx.onerror = () => { db.close(); reject(tx.error); };
    });
  };
  return {
    put: (record) => run("readwrite", (store) => store.put(record)),
    all: () => run("readonly", (store) => store.getAll()),
    remove: (id) => run("readwrite", (store) => store.delete(id)),
  };
})()
"""


def report_usage(*, api_key: str | None, succeeded: bool, endpoint: str | None = None) -> None:
    """Schedule the one usage event of a finished conversion; returns at once."""
    location = getattr(js.globalThis, "location", None)
    if location is None:
        return
    try:
        event = usage_event(
            api_key=api_key,
            host=str(location.origin),
            succeeded=succeeded,
            event_id=str(js.crypto.randomUUID()),
        )
        url = usage_endpoint(str(location.origin), endpoint)
        _spawn(_deliver(url, event))
    except Exception as exc:  # telemetry must never break the caller
        js.console.warn(f"pywebcodecs: usage event not sent: {exc}")


def start_outbox() -> None:
    """Send events kept while offline, now and whenever the browser comes back online."""
    global _online_listener
    if _online_listener is None and hasattr(js.globalThis, "addEventListener"):
        _online_listener = create_proxy(lambda _event: _spawn(_flush_outbox()))
        js.globalThis.addEventListener("online", _online_listener)
    _spawn(_flush_outbox())


def pending_tasks() -> int:
    """How many usage deliveries are still in flight (tests and page unload use it)."""
    return len(_tasks)


def _spawn(coroutine: Any) -> None:
    task = asyncio.ensure_future(coroutine)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _deliver(url: str, event: dict[str, Any]) -> None:
    if await _send_with_retries(url, event) is None:
        await _keep(url, event)


async def _send_with_retries(url: str, event: dict[str, Any]) -> bool | None:
    """True: delivered; False: refused by the service (not retried); None: no network."""
    body = json.dumps(event)
    for delay in (0.0, *RETRY_DELAYS):
        if delay:
            await asyncio.sleep(delay)
        if not _online():
            return None
        try:
            init = {
                "method": "POST",
                "headers": {"Content-Type": "application/json"},
                "body": body,
                "keepalive": True,
                "signal": js.AbortSignal.timeout(int(TIMEOUT_SECONDS * 1000)),
            }
            response = await js.fetch(url, js_object(init))
        except JsException as exc:
            js.console.warn(f"pywebcodecs: usage event to {url} failed: {js_error_message(exc)}")
            continue
        if response.ok:
            return True
        text = await response.text()
        js.console.warn(f"pywebcodecs: usage service answered {response.status}: {text[:200]}")
        return False
    return None


def _online() -> bool:
    navigator = getattr(js.globalThis, "navigator", None)
    return bool(getattr(navigator, "onLine", True))


def _outbox_api() -> Any:
    global _outbox
    if _outbox is None:
        _outbox = run_js(_OUTBOX_JS)
    return _outbox


async def _keep(url: str, event: dict[str, Any]) -> None:
    if not hasattr(js.globalThis, "indexedDB"):
        js.console.warn("pywebcodecs: offline and no IndexedDB: usage event dropped")
        return
    record = {"id": event["eventId"], "url": url, "event": json.dumps(event)}
    try:
        await _outbox_api().put(js_object(record))
    except JsException as exc:
        js.console.warn(f"pywebcodecs: could not keep the usage event: {js_error_message(exc)}")


async def _flush_outbox() -> None:
    if not hasattr(js.globalThis, "indexedDB") or not _online():
        return
    try:
        records = (await _outbox_api().all()).to_py()
    except JsException as exc:
        js.console.warn(f"pywebcodecs: could not read kept usage events: {js_error_message(exc)}")
        return
    for record in records:
        if await _send_with_retries(record["url"], json.loads(record["event"])) is not None:
            await _outbox_api().remove(record["id"])
