"""The usage event one conversion reports: its content, its endpoint and its retry rules.

Pure data, shared by the browser client (:mod:`pywebcodecs.browser.telemetry`) and the
tests. The event carries no user data: the event name, the site's public key, the page's
origin, whether the conversion succeeded, and a random id that makes retries idempotent.
"""

from __future__ import annotations

from typing import Any

EVENT = "webcodec-conversion"
DEFAULT_PATH = "/api/track/register-usage-point"
TIMEOUT_SECONDS = 10.0
#: Waits before the 2nd, 3rd and 4th attempt; only network errors and time-outs retry.
RETRY_DELAYS = (1.0, 2.0, 4.0)

_endpoint: str | None = None


def set_usage_endpoint(url: str | None) -> None:
    """Send usage events to ``url`` from now on (None: back to the page's own origin)."""
    global _endpoint
    _endpoint = url


def usage_endpoint(origin: str, override: str | None = None) -> str:
    """Where an event goes: the call's endpoint, else the global one, else the page's origin."""
    chosen = override or _endpoint
    if chosen:
        return chosen
    return origin.rstrip("/") + DEFAULT_PATH


def usage_event(
    *, api_key: str | None, host: str, succeeded: bool, event_id: str
) -> dict[str, Any]:
    return {
        "event": EVENT,
        "apiKey": api_key,
        "host": host,
        "succeeded": succeeded,
        "eventId": event_id,
    }
