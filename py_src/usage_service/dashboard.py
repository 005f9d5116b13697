"""The key owner's dashboard and the operator's view, and the JSON they draw from.

The pages are static HTML with a small inline script (no CDN, no framework) and one
shared stylesheet and icon (``/dashboard/pages.css``, ``/dashboard/icon.svg``: the service
may run without the site, so the pages bring their own favicon). They hold no data: they
ask the JSON endpoints with the credential in an ``Authorization: Bearer`` header (the
page keeps it in ``sessionStorage``, never in a cookie, so no other site can make the
browser send it).

- ``GET /dashboard``, ``GET /api/dashboard/usage?days=N`` (secret key): per day and per
  origin, split by classification, over the last N days (1 to 90, default 30);
- ``GET /admin``, ``GET /api/admin/origins?limit=L&offset=O`` (admin token): every origin
  ever seen, most recent first, a page at a time (``next_offset`` is null on the last),
  each with its count of events sent without a key (``keyless``; an origin may send some
  events with a key and some without), and ``totals`` over all pages: how many origins,
  how many of them sent key-less events. Both answer 404 when the service was started
  without an admin token.

Both JSON endpoints are rate limited per client network (``login`` limit), whether the
credential is right or not: it bounds guessing without telling the guesser anything.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from .payloads import MAX_LOOKBACK_DAYS, PayloadError
from .service import Service, bearer_token, error_response, json_answer
from .storage.base import DAY_MS, zero_counts
from .track import INVALID_KEY

MAX_PAGE = 1000
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
_PAGE_HEADERS = {"Cache-Control": "no-store", "Content-Security-Policy": "frame-ancestors 'none'"}
_ASSET_HEADERS = {"Cache-Control": "max-age=3600"}
#: A bar chart: the pages' favicon.
ICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="6" fill="#1f4e79"/>'
    '<path d="M7 24h4V14H7zm7 0h4V8h-4zm7 0h4V17h-4z" fill="#fff"/></svg>'
)


def dashboard_routes(service: Service) -> list[Route]:
    async def dashboard_page(request: Request) -> Response:
        return HTMLResponse(_page("dashboard.html"), headers=_PAGE_HEADERS)

    async def admin_page(request: Request) -> Response:
        if service.admin_token is None:
            return Response("Not Found", 404)
        return HTMLResponse(_page("admin.html"), headers=_PAGE_HEADERS)

    async def stylesheet(request: Request) -> Response:
        return PlainTextResponse(_page("pages.css"), headers=_ASSET_HEADERS, media_type="text/css")

    async def icon(request: Request) -> Response:
        return Response(ICON_SVG, headers=_ASSET_HEADERS, media_type="image/svg+xml")

    async def usage(request: Request) -> Response:
        return await json_answer(lambda: _usage(service, request))

    async def origins(request: Request) -> Response:
        if service.admin_token is None:
            return error_response(PayloadError(404, "the operator view is not enabled"))
        return await json_answer(lambda: _origins(service, request))

    return [
        Route("/dashboard", dashboard_page),
        Route("/admin", admin_page),
        Route("/dashboard/pages.css", stylesheet),
        Route("/dashboard/icon.svg", icon),
        Route("/api/dashboard/usage", usage),
        Route("/api/admin/origins", origins),
    ]


def _page(name: str) -> str:
    return resources.files(__package__).joinpath("pages", name).read_text(encoding="utf-8")


def _whole_number(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name, str(default))
    if _WHOLE_NUMBER.fullmatch(text) is None or not low <= int(text) <= high:
        raise PayloadError(400, f"{name} must be a whole number from {low} to {high}")
    return int(text)


async def _usage(service: Service, request: Request) -> dict[str, object]:
    service.limit_login(request)
    secret = bearer_token(request)
    key = await service.db.key_by_secret(secret) if secret else None
    if key is None or key.revoked:
        raise PayloadError(401, INVALID_KEY)
    days = _whole_number(request, "days", 30, 1, MAX_LOOKBACK_DAYS)
    today = service.now_ms() // DAY_MS
    first_day = today - days + 1
    by_day = await service.db.counts_by_day(key.public_key, first_day * DAY_MS)
    by_origin = await service.db.counts_by_origin(key.public_key, first_day * DAY_MS)
    return {
        "success": True,
        "key": {"name": key.name, "public_key": key.public_key},
        "days": [
            {"day": _date(day * DAY_MS), **by_day.get(day, zero_counts())}
            for day in range(first_day, today + 1)
        ],
        "origins": [{"origin": origin, **counts} for origin, counts in sorted(by_origin.items())],
    }


async def _origins(service: Service, request: Request) -> dict[str, object]:
    service.limit_login(request)
    if not service.admin_allowed(request):
        raise PayloadError(401, "a valid admin token is required")
    limit = _whole_number(request, "limit", 100, 1, MAX_PAGE)
    offset = _whole_number(request, "offset", 0, 0, 10**9)
    page = await service.db.origins(limit + 1, offset)
    origins, with_keyless = await service.db.origin_totals()
    return {
        "success": True,
        "totals": {"origins": origins, "with_keyless": with_keyless},
        "origins": [
            {
                "origin": summary.origin,
                **summary.counts,
                "first_seen": _date(summary.first_seen, "seconds"),
                "last_seen": _date(summary.last_seen, "seconds"),
                "has_key": summary.has_key,
                "keyless": summary.keyless,
            }
            for summary in page[:limit]
        ],
        "next_offset": offset + limit if len(page) > limit else None,
    }


def _date(ms: int, timespec: str = "") -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec=timespec) if timespec else moment.date().isoformat()
