"""The tracking API the engine, Remotion's own client and the site owners call.

- ``POST /api/track/register-usage-point``: one event per conversion, from any origin
  (CORS ``*``: the engine runs on every site that embeds it). The engine posts
  ``application/json``, which is not a CORS-safelisted content type, so browsers send an
  ``OPTIONS`` preflight first (Fetch standard, "CORS protocol", §3.2.2 and §3.2.3). A
  browser always sends ``Origin`` on that cross-origin POST, so when the header is there
  the event's ``host`` must be it: a page cannot report events in another site's name;
- ``POST /api/track/get-usage``: a key's counts since a time (server to server, so no
  CORS: the secret key must not be in a page), in the shape ``@remotion/licensing``'s
  ``getUsage()`` reads: ``webcodecConversions`` and ``cloudRenders``, each
  ``{billable, development, failed}``; ``since`` and ``counts`` (every counter by name)
  beside them.
"""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .origins import (
    BILLABLE,
    DEVELOPMENT,
    Origin,
    OriginError,
    classify,
    host_allowed,
    parse_origin,
)
from .payloads import (
    CLOUD_RENDER,
    EVENTS,
    WEBCODEC_CONVERSION,
    PayloadError,
    UsagePoint,
    parse_usage_point,
    parse_usage_query,
)
from .service import UNAVAILABLE, Service, json_answer
from .storage import UsageEvent
from .storage.base import NO_ORIGIN, zero_counts

__all__ = ["INVALID_KEY", "UNAVAILABLE", "track_routes"]

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
    # Not a CORS-safelisted response header: without this a page on another origin could
    # not read how long a 429 or 503 asks it to wait.
    "Access-Control-Expose-Headers": "Retry-After",
}
INVALID_KEY = "Invalid API key"


def track_routes(service: Service) -> list[Route]:
    async def register_usage_point(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=CORS)
        # CORS headers on errors too, so the page's console shows the real status instead
        # of an opaque CORS failure.
        return await json_answer(lambda: _register(service, request), CORS)

    async def get_usage(request: Request) -> Response:
        return await json_answer(lambda: _usage(service, request))

    return [
        Route("/api/track/register-usage-point", register_usage_point, methods=["POST", "OPTIONS"]),
        Route("/api/track/get-usage", get_usage, methods=["POST"]),
    ]


async def _register(service: Service, request: Request) -> dict[str, object]:
    service.limit_network(request)
    point = parse_usage_point(await service.read_json(request))
    _check_page_origin(point.origin, request.headers.get("origin"))
    if point.api_key is not None:
        key = await service.db.key_by_public(point.api_key)
        if key is None or key.revoked:
            raise PayloadError(401, INVALID_KEY)
        service.limit_key(key.public_key, request)
        if key.allowed_domains and point.origin is None:
            raise PayloadError(
                403, "this API key allows only some domains, and the event has no host"
            )
        if point.origin is not None and not host_allowed(point.origin, key.allowed_domains):
            raise PayloadError(
                403, f"{point.origin.text} is not among the domains this API key allows"
            )
    event = _usage_event(point, service.now_ms())
    stored = await service.db.record(event)
    if not stored.same_content(event):
        raise PayloadError(409, "this eventId was already used for a different event")
    classification = stored.classification
    return {
        "success": True,
        "billable": classification == BILLABLE,
        "classification": classification,
    }


def _check_page_origin(host: Origin | None, header: str | None) -> None:
    """403 unless ``host`` is the page's ``Origin`` (when the request has that header).

    An opaque page (a sandboxed frame, a ``file://`` page) sends ``Origin: null`` while its
    ``location.origin`` is ``"null"`` or ``"file://"``: those match each other.
    """
    if header is None:
        return
    try:
        page = parse_origin(header)
    except OriginError:
        raise PayloadError(403, "the request's Origin header is not an origin") from None
    if host is None or (host.text != page.text and not (host.opaque and page.opaque)):
        shown = "no host" if host is None else f"host {host.text}"
        raise PayloadError(403, f"the event's {shown} is not the page's origin {page.text}")


def _usage_event(point: UsagePoint, now_ms: int) -> UsageEvent:
    """What is stored: a request without an ``eventId`` gets a fresh one (counted once per
    request); ``isProduction: false`` counts as development whatever the origin; an event
    without a host (``host: null``, a server-side render) is classified by its outcome
    alone (``failed`` or ``billable``: see :mod:`.origins`)."""
    classification = classify(point.origin, point.succeeded)
    if classification == BILLABLE and point.is_production is False:
        classification = DEVELOPMENT
    return UsageEvent(
        point.event_id or f"srv-{uuid.uuid4().hex}",
        point.event,
        point.api_key,
        NO_ORIGIN if point.origin is None else point.origin.text,
        point.succeeded,
        classification,
        now_ms,
        point.is_still,
        point.is_production,
    )


async def _usage(service: Service, request: Request) -> dict[str, object]:
    service.limit_network(request)
    query = parse_usage_query(await service.read_json(request), service.now_ms())
    key = await service.db.key_by_secret(query.secret_key)
    if key is None or key.revoked:
        raise PayloadError(401, INVALID_KEY)
    counts = {event: zero_counts() for event in EVENTS}
    counts |= await service.db.counts(key.public_key, query.since_ms)
    return {
        "success": True,
        "webcodecConversions": counts[WEBCODEC_CONVERSION],
        "cloudRenders": counts[CLOUD_RENDER],
        "since": query.since_ms,
        "counts": counts,
    }
