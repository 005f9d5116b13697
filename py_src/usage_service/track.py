"""The tracking API the engine and the site owners call.

- ``POST /api/track/register-usage-point``: one event per conversion, from any origin
  (CORS ``*``: the engine runs on every site that embeds it). The engine posts
  ``application/json``, which is not a CORS-safelisted content type, so browsers send an
  ``OPTIONS`` preflight first (Fetch standard, "CORS protocol", §3.2.2 and §3.2.3);
- ``POST /api/track/get-usage``: a key's counts since a time (server to server, so no
  CORS: the secret key must not be in a page).
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .origins import BILLABLE, classify, host_allowed
from .payloads import EVENTS, PayloadError, parse_usage_point, parse_usage_query
from .service import Service, error_response
from .storage import UsageEvent
from .storage.base import zero_counts

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}
INVALID_KEY = "Invalid API key"
UNAVAILABLE = "the usage service could not record the event; retry later"
LOG = logging.getLogger(__name__)


def track_routes(service: Service) -> list[Route]:
    async def register_usage_point(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=CORS)
        try:
            return JSONResponse(await _register(service, request), headers=CORS)
        except PayloadError as error:
            return error_response(error, CORS)
        except Exception:
            # Answer with CORS headers even now, so the page's console shows the real
            # status instead of an opaque CORS failure.
            LOG.exception("could not record a usage event")
            return error_response(PayloadError(503, UNAVAILABLE), CORS)

    async def get_usage(request: Request) -> Response:
        try:
            return JSONResponse(await _usage(service, request))
        except PayloadError as error:
            return error_response(error)

    return [
        Route("/api/track/register-usage-point", register_usage_point, methods=["POST", "OPTIONS"]),
        Route("/api/track/get-usage", get_usage, methods=["POST"]),
    ]


async def _register(service: Service, request: Request) -> dict[str, object]:
    service.limit_ip(request)
    point = parse_usage_point(await service.read_json(request))
    if point.api_key is not None:
        key = await service.db.key_by_public(point.api_key)
        if key is None or key.revoked:
            raise PayloadError(401, INVALID_KEY)
        service.limit_key(key.public_key)
        if not host_allowed(point.origin, key.allowed_domains):
            raise PayloadError(
                403, f"{point.origin.text} is not among the domains this API key allows"
            )
    event = UsageEvent(
        point.event_id,
        point.event,
        point.api_key,
        point.origin.text,
        point.succeeded,
        classify(point.origin, point.succeeded),
        service.now_ms(),
    )
    stored = await service.db.record(event)
    if not stored.same_content(event):
        raise PayloadError(409, "this eventId was already used for a different event")
    classification = stored.classification
    return {
        "success": True,
        "billable": classification == BILLABLE,
        "classification": classification,
    }


async def _usage(service: Service, request: Request) -> dict[str, object]:
    service.limit_ip(request)
    query = parse_usage_query(await service.read_json(request), service.now_ms())
    key = await service.db.key_by_secret(query.secret_key)
    if key is None or key.revoked:
        raise PayloadError(401, INVALID_KEY)
    counts = {event: zero_counts() for event in EVENTS}
    counts |= await service.db.counts(key.public_key, query.since_ms)
    return {"success": True, "since": query.since_ms, "counts": counts}
