"""Sending the usage event from the browser, in a Window or a Worker.

- The origin comes from ``globalThis.location``, which Workers have too (the reference
  client reads ``window.location`` and is silent in Workers).
- It never delays or fails a conversion: :func:`report_usage` only schedules a task.
- Every event is first kept in an IndexedDB outbox and leaves it only when the service
  answered 2xx or refused it on its merits (:func:`pywebcodecs.usage.outcome`): a closed
  tab, a 429, a 503 or a network outage cannot lose it.
- Network errors and time-outs (10 s) are retried at once after 1, 2 and 4 s with the same
  ``eventId``, so a retry of a request that did arrive is counted once by the service.
  Past that, and on any "later" status, the outbox sends it again after
  :func:`pywebcodecs.usage.backoff_seconds` (never before ``Retry-After``) while the page
  is open, when the browser reports ``online`` again, and when the engine next loads
  (:func:`start_outbox`, which every entry point calls).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import js
from pyodide.code import run_js
from pyodide.ffi import JsException, create_once_callable, create_proxy

from ..usage import (
    RETRY_DELAYS,
    TIMEOUT_SECONDS,
    Outcome,
    backoff_seconds,
    outcome,
    retry_after_seconds,
    usage_endpoint,
    usage_event,
)
from .interop import js_error_message, js_object

_tasks: set[asyncio.Task[None]] = set()
_outbox: Any = None
_online_listener: Any = None
#: Event ids being sent right now: an outbox round skips them (no double send).
_sending: set[str] = set()
_flushing = False
_flush_timer: Any = None
_backoff_round = 0

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
    """Send kept events now, and whenever the browser comes back online.

    Safe to call more than once (``loadEngine()``, the Worker and the PyScript page all
    call it): one ``online`` listener, and one outbox round at a time.
    """
    global _online_listener
    if _online_listener is None and hasattr(js.globalThis, "addEventListener"):
        _online_listener = create_proxy(lambda _event: _spawn(_flush_outbox()))
        js.globalThis.addEventListener("online", _online_listener)
    _spawn(_flush_outbox())


def pending_tasks() -> int:
    """How many usage deliveries are in flight now (not counting a scheduled later round)."""
    return len(_tasks)


def _spawn(coroutine: Any) -> None:
    task = asyncio.ensure_future(coroutine)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _deliver(url: str, event: dict[str, Any]) -> None:
    event_id = event["eventId"]
    _sending.add(event_id)
    try:
        kept = await _keep(url, event)
        result, retry_after = await _send_with_retries(url, event)
        if result != "later":
            if kept:
                await _forget(event_id)
        elif kept:
            _schedule_flush(retry_after)
        else:
            js.console.warn("pywebcodecs: no IndexedDB to keep the usage event: dropped")
    finally:
        _sending.discard(event_id)


async def _send_with_retries(url: str, event: dict[str, Any]) -> tuple[Outcome, float]:
    """The outcome, and for "later" the service's ``Retry-After`` in seconds (or 0)."""
    body = json.dumps(event)
    for delay in (0.0, *RETRY_DELAYS):
        if delay:
            await asyncio.sleep(delay)
        if not _online():
            return "later", 0.0
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
        result = outcome(int(response.status))
        if result == "sent":
            return result, 0.0
        text = await response.text()
        js.console.warn(f"pywebcodecs: usage service answered {response.status}: {text[:200]}")
        header = response.headers.get("Retry-After")  # a JS null when absent
        return result, retry_after_seconds(header if isinstance(header, str) else None)
    return "later", 0.0


def _online() -> bool:
    navigator = getattr(js.globalThis, "navigator", None)
    return bool(getattr(navigator, "onLine", True))


def _outbox_api() -> Any:
    global _outbox
    if _outbox is None:
        _outbox = run_js(_OUTBOX_JS)
    return _outbox


async def _keep(url: str, event: dict[str, Any]) -> bool:
    """Put the event in the outbox; whether it is there."""
    if not hasattr(js.globalThis, "indexedDB"):
        return False
    record = {"id": event["eventId"], "url": url, "event": json.dumps(event)}
    try:
        await _outbox_api().put(js_object(record))
    except JsException as exc:
        js.console.warn(f"pywebcodecs: could not keep the usage event: {js_error_message(exc)}")
        return False
    return True


async def _forget(event_id: str) -> None:
    try:
        await _outbox_api().remove(event_id)
    except JsException as exc:  # it is sent again later, and counted once by its id
        js.console.warn(f"pywebcodecs: could not clear a sent usage event: {js_error_message(exc)}")


def _schedule_flush(retry_after: float) -> None:
    """One outbox round after the next back-off wait (one timer at a time)."""
    global _flush_timer, _backoff_round
    if _flush_timer is not None or not hasattr(js.globalThis, "setTimeout"):
        return
    _backoff_round += 1

    def fire() -> None:
        global _flush_timer
        _flush_timer = None
        _spawn(_flush_outbox())

    delay = backoff_seconds(_backoff_round, retry_after)
    _flush_timer = js.setTimeout(create_once_callable(fire), int(delay * 1000))


async def _flush_outbox() -> None:
    """One round over the kept events; schedules the next round if some are still "later"."""
    global _flushing, _backoff_round
    if _flushing or not hasattr(js.globalThis, "indexedDB") or not _online():
        return
    _flushing = True
    try:
        try:
            records = (await _outbox_api().all()).to_py()
        except JsException as exc:
            message = js_error_message(exc)
            js.console.warn(f"pywebcodecs: could not read kept usage events: {message}")
            return
        later = [0.0]
        for record in records:
            if record["id"] in _sending:
                continue
            result, retry_after = await _send_with_retries(
                record["url"], json.loads(record["event"])
            )
            if result == "later":
                later.append(retry_after)
            else:
                await _forget(record["id"])
        if len(later) > 1:
            _schedule_flush(max(later))
        else:
            _backoff_round = 0
    finally:
        _flushing = False
