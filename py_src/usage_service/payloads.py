"""Strict parsing of the two JSON bodies the tracking API accepts.

Every field is checked for presence, type and length; unknown fields, duplicate keys,
``NaN``/``Infinity``, numbers past a double, nesting past :data:`MAX_JSON_DEPTH` and
non-object bodies are refused, each with a message that says what was wrong, so a broken
client is diagnosed from one response.

The bodies are exactly what Remotion's own client, ``@remotion/licensing``, sends, so a
site can point that unmodified client at this service: 4.0.398 and earlier send
``{event, apiKey, host, succeeded}``, later versions add ``isStill`` and ``isProduction``,
and our engine adds ``eventId`` (which makes its retries idempotent; without it every
request counts once). ``web-render`` is the newer name of ``webcodec-conversion``: both
are one counter, stored under the older name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .keys import MAX_KEY_LENGTH, PUBLIC_PREFIX, SECRET_PREFIX
from .origins import Origin, OriginError, parse_origin

WEBCODEC_CONVERSION = "webcodec-conversion"
CLOUD_RENDER = "cloud-render"
#: The counters, in the order ``get-usage`` lists them.
EVENTS = (WEBCODEC_CONVERSION, CLOUD_RENDER)
#: Every event name a client may send, and the counter it is counted under.
EVENT_NAMES = {
    WEBCODEC_CONVERSION: WEBCODEC_CONVERSION,
    "web-render": WEBCODEC_CONVERSION,
    CLOUD_RENDER: CLOUD_RENDER,
}
MAX_LOOKBACK_DAYS = 90
#: How far a client's clock may be off at either end of the ``since`` window.
CLOCK_SKEW_MS = 60_000
MAX_JSON_DEPTH = 20
_DAY_MS = 86_400_000
_EVENT_ID = re.compile(r"[A-Za-z0-9_-]{8,100}")
SECRET_KEY_IN_BROWSER = (
    "This is a secret key (sec_…): secret keys must never be used in a browser. Send the"
    " public key (pub_…) with usage events, revoke this secret key and create a new pair."
)


class PayloadError(Exception):
    """A request the service refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class UsagePoint:
    """One ``register-usage-point`` body."""

    event: str
    api_key: str | None
    origin: Origin | None  # None: the client sent ``host: null``
    succeeded: bool
    event_id: str | None  # None: count this request once
    is_still: bool
    is_production: bool | None  # None: the client did not say


@dataclass(frozen=True)
class UsageQuery:
    """One ``get-usage`` body; ``since_ms`` is resolved to milliseconds since the epoch."""

    secret_key: str
    since_ms: int


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; 400 with the reason otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError(400, "body is not UTF-8") from None
    _check_depth(text)
    try:
        value = json.loads(
            text,
            object_pairs_hook=_refuse_duplicates,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
        )
    except ValueError as exc:
        raise PayloadError(400, f"body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise PayloadError(400, "body must be a JSON object")
    return value


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate field")
    return result


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than :data:`MAX_JSON_DEPTH` before the parser recurses into it.

    Brackets inside strings count too: no body the service accepts needs either many
    brackets in a string or deep nesting, so over-counting refuses only nonsense.
    """
    depth = 0
    for char in text:
        if char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise PayloadError(400, f"body is nested deeper than {MAX_JSON_DEPTH} levels")
        elif char in "]}":
            depth -= 1


def _check_fields(body: dict[str, Any], required: set[str], optional: set[str]) -> None:
    unknown = sorted(set(body) - required - optional)
    if unknown:
        raise PayloadError(400, f"unknown field(s): {', '.join(unknown)}")
    missing = sorted(required - set(body))
    if missing:
        raise PayloadError(400, f"missing field(s): {', '.join(missing)}")


def _string(body: dict[str, Any], field: str, max_length: int) -> str:
    value = body[field]
    if not isinstance(value, str):
        raise PayloadError(400, f"{field} must be a string, not {_json_type(value)}")
    if len(value) > max_length:
        raise PayloadError(400, f"{field} is longer than {max_length} characters")
    return value


def _json_type(value: object) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    names |= {list: "an array", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def parse_usage_point(body: dict[str, Any]) -> UsagePoint:
    """Validate ``{event, apiKey, host, succeeded, eventId?, isStill?, isProduction?}``."""
    _check_fields(
        body, {"event", "apiKey", "host", "succeeded"}, {"eventId", "isStill", "isProduction"}
    )
    name = _string(body, "event", 50)
    if name not in EVENT_NAMES:
        raise PayloadError(400, f"event must be one of {', '.join(EVENT_NAMES)} (got {name!r})")
    api_key = None if body["apiKey"] is None else _string(body, "apiKey", MAX_KEY_LENGTH)
    if api_key is not None and api_key.startswith(SECRET_PREFIX):
        raise PayloadError(400, SECRET_KEY_IN_BROWSER)
    succeeded = _boolean(body, "succeeded")
    event_id = None
    if body.get("eventId") is not None:
        event_id = _string(body, "eventId", 100)
        if _EVENT_ID.fullmatch(event_id) is None:
            raise PayloadError(400, "eventId must be 8 to 100 characters of A-Z, a-z, 0-9, _ and -")
    is_still = "isStill" in body and _boolean(body, "isStill")
    is_production = _boolean(body, "isProduction") if "isProduction" in body else None
    origin = None
    if body["host"] is not None:
        try:
            origin = parse_origin(_string(body, "host", 300))
        except OriginError as exc:
            raise PayloadError(400, str(exc)) from None
    return UsagePoint(
        EVENT_NAMES[name], api_key, origin, succeeded, event_id, is_still, is_production
    )


def _boolean(body: dict[str, Any], field: str) -> bool:
    value = body[field]
    if not isinstance(value, bool):
        raise PayloadError(400, f"{field} must be a boolean, not {_json_type(value)}")
    return value


def parse_usage_query(body: dict[str, Any], now_ms: int) -> UsageQuery:
    """Validate ``{apiKey, since?}``; ``since`` (null or absent: the start of the UTC month)
    may reach back :data:`MAX_LOOKBACK_DAYS` days, each end with :data:`CLOCK_SKEW_MS` of
    slack, since the client computes it from its own clock (``Date.now() - 90 days``)."""
    _check_fields(body, {"apiKey"}, {"since"})
    key = _string(body, "apiKey", MAX_KEY_LENGTH)
    if key.startswith(PUBLIC_PREFIX):
        raise PayloadError(
            400, "get-usage needs the secret key (sec_…); a public key (pub_…) cannot read usage"
        )
    since = body.get("since")
    since_ms = start_of_utc_month(now_ms) if since is None else _parse_time(since)
    if since_ms < now_ms - MAX_LOOKBACK_DAYS * _DAY_MS - CLOCK_SKEW_MS:
        raise PayloadError(400, f"since is more than {MAX_LOOKBACK_DAYS} days ago")
    if since_ms > now_ms + CLOCK_SKEW_MS:
        raise PayloadError(400, "since is in the future")
    return UsageQuery(key, since_ms)


def _parse_time(value: object) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return int(moment.timestamp() * 1000)
    raise PayloadError(400, "since must be milliseconds since the epoch or an ISO 8601 time")


def start_of_utc_month(now_ms: int) -> int:
    """Milliseconds at 00:00 UTC on the first day of ``now_ms``'s month."""
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    return int(datetime(now.year, now.month, 1, tzinfo=UTC).timestamp() * 1000)
