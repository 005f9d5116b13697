"""The usage event one conversion reports: its content, its endpoint and its retry rules.

Pure data and arithmetic, shared by the browser client (:mod:`pywebcodecs.browser.telemetry`)
and the tests. The event carries no user data: the event name, the site's public key, the
page's origin, whether the conversion succeeded, and a random id that makes retries
idempotent.

An event is dropped only when the service refused it on its merits (:data:`FINAL_STATUSES`:
a malformed event, a bad or revoked key, a host the key does not allow, an id reused for
another event). Everything else (no network, a time-out, 429 rate limiting, 503 a busy
database, any other status) means "later": the event stays in the outbox and is sent
again, never sooner than the service's ``Retry-After``, with growing waits in between.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

EVENT = "webcodec-conversion"
DEFAULT_PATH = "/api/track/register-usage-point"
TIMEOUT_SECONDS = 10.0
#: Waits before the 2nd, 3rd and 4th attempt of one delivery on network errors; after that
#: the event waits in the outbox.
RETRY_DELAYS = (1.0, 2.0, 4.0)
FINAL_STATUSES = frozenset({400, 401, 403, 409})
#: The outbox's waits between rounds while events are still "later": 2 s doubling to 5 min.
FIRST_BACKOFF_SECONDS = 2.0
MAX_BACKOFF_SECONDS = 300.0

Outcome = Literal["sent", "refused", "later"]
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


def outcome(status: int) -> Outcome:
    """What an HTTP status means for the event (see the module docstring)."""
    if 200 <= status < 300:
        return "sent"
    return "refused" if status in FINAL_STATUSES else "later"


def retry_after_seconds(header: str | None, now: datetime | None = None) -> float:
    """``Retry-After`` (delay-seconds or an HTTP-date, RFC 9110 §10.2.3) in seconds, within
    0 to :data:`MAX_BACKOFF_SECONDS`; 0 when absent or unreadable."""
    if not header:
        return 0.0
    text = header.strip()
    if text.isascii() and text.isdigit():
        seconds = float(text)
    else:
        # Imported here: email.utils pulls in urllib, ipaddress and random, about half of
        # the engine's start-up imports in Pyodide, for a header that is rarely a date.
        from email.utils import parsedate_to_datetime

        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return 0.0
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    return min(MAX_BACKOFF_SECONDS, max(0.0, seconds))


def backoff_seconds(round_number: int, retry_after: float = 0.0) -> float:
    """The wait before outbox round ``round_number`` (1, 2, …): doubling from
    :data:`FIRST_BACKOFF_SECONDS`, capped, and never shorter than the service asked."""
    doubling = FIRST_BACKOFF_SECONDS * 2 ** min(max(round_number - 1, 0), 16)
    return max(min(doubling, MAX_BACKOFF_SECONDS), retry_after)
