"""The key owner's dashboard and the operator's view, and the JSON they draw from.

The pages are static HTML with a small inline script (no CDN, no framework). They hold no
data: they ask the JSON endpoints with the credential in an ``Authorization: Bearer``
header (the page keeps it in ``sessionStorage``, never in a cookie, so no other site can
make the browser send it).

- ``GET /dashboard``, ``GET /api/dashboard/usage?days=N`` (secret key): per day and per
  origin, split by classification, over the last N days (1 to 90, default 30);
- ``GET /admin``, ``GET /api/admin/origins`` (admin token): every origin ever seen. Both
  answer 404 when the service was started without an admin token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .payloads import MAX_LOOKBACK_DAYS, PayloadError
from .service import Service, bearer_token, error_response
from .storage.base import DAY_MS, zero_counts
from .track import INVALID_KEY

_PAGE_HEADERS = {"Cache-Control": "no-store", "Content-Security-Policy": "frame-ancestors 'none'"}


def dashboard_routes(service: Service) -> list[Route]:
    async def dashboard_page(request: Request) -> Response:
        return HTMLResponse(_page("dashboard.html"), headers=_PAGE_HEADERS)

    async def admin_page(request: Request) -> Response:
        if service.admin_token is None:
            return Response("Not Found", 404)
        return HTMLResponse(_page("admin.html"), headers=_PAGE_HEADERS)

    async def usage(request: Request) -> Response:
        try:
            return JSONResponse(await _usage(service, request))
        except PayloadError as error:
            return error_response(error)

    async def origins(request: Request) -> Response:
        if service.admin_token is None:
            return error_response(PayloadError(404, "the operator view is not enabled"))
        if not service.admin_allowed(request):
            return error_response(PayloadError(401, "a valid admin token is required"))
        return JSONResponse({"success": True, "origins": await _origins(service)})

    return [
        Route("/dashboard", dashboard_page),
        Route("/admin", admin_page),
        Route("/api/dashboard/usage", usage),
        Route("/api/admin/origins", origins),
    ]


def _page(name: str) -> str:
    return resources.files(__package__).joinpath("pages", name).read_text(encoding="utf-8")


async def _usage(service: Service, request: Request) -> dict[str, object]:
    service.limit_ip(request)
    secret = bearer_token(request)
    key = await service.db.key_by_secret(secret) if secret else None
    if key is None or key.revoked:
        raise PayloadError(401, INVALID_KEY)
    days_text = request.query_params.get("days", "30")
    if not days_text.isdigit() or not 1 <= int(days_text) <= MAX_LOOKBACK_DAYS:
        raise PayloadError(400, f"days must be a whole number from 1 to {MAX_LOOKBACK_DAYS}")
    today = service.now_ms() // DAY_MS
    first_day = today - int(days_text) + 1
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


async def _origins(service: Service) -> list[dict[str, object]]:
    return [
        {
            "origin": summary.origin,
            **summary.counts,
            "first_seen": _date(summary.first_seen, "seconds"),
            "last_seen": _date(summary.last_seen, "seconds"),
            "has_key": summary.has_key,
        }
        for summary in await service.db.origins()
    ]


def _date(ms: int, timespec: str = "") -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec=timespec) if timespec else moment.date().isoformat()
