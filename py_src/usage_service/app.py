"""``create_app``: the ASGI application (Starlette), optionally with the built site at ``/``.

Serving the site and the API from one origin is what makes the engine's default endpoint
(``/api/track/register-usage-point`` on the page's own origin) work with no set-up.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from pywebcodecs_host.site_server import MIME_TYPES

from .dashboard import dashboard_routes
from .rate_limit import RateLimit, TokenBuckets
from .service import Service
from .storage import open_store
from .track import track_routes

DEFAULT_IP_LIMIT = RateLimit(per_second=20, burst=100)
DEFAULT_KEY_LIMIT = RateLimit(per_second=200, burst=1000)


def create_app(
    database_url: str,
    *,
    static_dir: str | None = None,
    admin_token: str | None = None,
    ip_limit: RateLimit | None = DEFAULT_IP_LIMIT,
    key_limit: RateLimit | None = DEFAULT_KEY_LIMIT,
    max_body_bytes: int = 2048,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The service on ``database_url`` (migrated at start); ``None`` limits mean unlimited.

    ``clock`` (seconds since the epoch) stamps events and resolves "now"; tests move it.
    """
    service = Service(
        ip_buckets=TokenBuckets(ip_limit),
        key_buckets=TokenBuckets(key_limit),
        admin_token=admin_token or None,
        max_body_bytes=max_body_bytes,
        clock=clock,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = open_store(database_url)
        await store.migrate()
        service.store = store
        try:
            yield
        finally:
            await store.close()

    routes: list[BaseRoute] = [*track_routes(service), *dashboard_routes(service)]
    if static_dir is not None:
        routes.append(Mount("/", app=SiteFiles(directory=static_dir, html=True)))
    return Starlette(routes=routes, lifespan=lifespan)


class SiteFiles(StaticFiles):
    """The built site, with the MIME types Pyodide needs (``.mjs``, ``.wasm``, ``.whl``)."""

    def file_response(
        self, full_path: Any, stat_result: Any, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        media_type = MIME_TYPES.get(Path(full_path).suffix.lower())
        if media_type is not None:
            response.headers["content-type"] = media_type
        return response
