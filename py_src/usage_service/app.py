"""``create_app``: the ASGI application (Starlette), optionally with the built site at ``/``.

Serving the site and the API from one origin is what makes the engine's default endpoint
(``/api/track/register-usage-point`` on the page's own origin) work with no set-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
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
from .service import Limits, Service
from .storage import open_store
from .storage.base import DAY_MS
from .track import track_routes

DEFAULT_IP_LIMIT = RateLimit(per_second=20, burst=100)
DEFAULT_KEY_LIMIT = RateLimit(per_second=200, burst=1000)
#: Per key from every network together: far above any one site's real traffic.
DEFAULT_KEY_CEILING = RateLimit(per_second=2000, burst=10_000)
DEFAULT_LOGIN_LIMIT = RateLimit(per_second=1, burst=20)
DEFAULT_KEEP_KEYLESS_DAYS = 90
#: How often the retention sweep runs while the service is up.
RETENTION_INTERVAL_SECONDS = 3600.0
#: ``serve`` hands its settings to ``app_from_environment`` in every worker through this.
SERVE_SETTINGS_VARIABLE = "PYWEBCODECS_SERVE_SETTINGS"
LIMIT_SETTINGS = ("ip_limit", "key_limit", "key_ceiling", "login_limit")
LOG = logging.getLogger(__name__)


def create_app(
    database_url: str,
    *,
    static_dir: str | None = None,
    admin_token: str | None = None,
    ip_limit: RateLimit | None = DEFAULT_IP_LIMIT,
    key_limit: RateLimit | None = DEFAULT_KEY_LIMIT,
    key_ceiling: RateLimit | None = DEFAULT_KEY_CEILING,
    login_limit: RateLimit | None = DEFAULT_LOGIN_LIMIT,
    max_body_bytes: int = 2048,
    body_timeout: float = 10.0,
    keep_keyless_days: int | None = DEFAULT_KEEP_KEYLESS_DAYS,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The service on ``database_url`` (migrated at start); ``None`` limits mean unlimited.

    ``ip_limit`` is per client network, ``key_limit`` per key and client network,
    ``key_ceiling`` per key, ``login_limit`` per client network on the dashboard and admin
    endpoints (see :class:`.service.Limits`). Events sent without a key are deleted after
    ``keep_keyless_days`` (None: kept). ``clock`` (seconds since the epoch) stamps events
    and resolves "now"; tests move it.
    """
    service = Service(
        limits=Limits(
            network=TokenBuckets(ip_limit),
            key_network=TokenBuckets(key_limit),
            key=TokenBuckets(key_ceiling),
            login=TokenBuckets(login_limit),
        ),
        admin_token=admin_token or None,
        max_body_bytes=max_body_bytes,
        body_timeout=body_timeout,
        clock=clock,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = open_store(database_url)
        await store.migrate()
        service.store = store
        sweeper = None
        if keep_keyless_days is not None:
            sweeper = asyncio.create_task(_sweep_keyless(service, keep_keyless_days))
        try:
            yield
        finally:
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            await store.close()

    routes: list[BaseRoute] = [*track_routes(service), *dashboard_routes(service)]
    if static_dir is not None:
        routes.append(Mount("/", app=SiteFiles(directory=static_dir, html=True)))
    return Starlette(routes=routes, lifespan=lifespan)


async def _sweep_keyless(service: Service, days: int) -> None:
    """Delete key-less events older than ``days``, at start and every hour after."""
    while True:
        try:
            await service.db.forget_keyless_before(service.now_ms() - days * DAY_MS)
        except Exception:
            LOG.exception("could not delete old key-less events; trying again later")
        await asyncio.sleep(RETENTION_INTERVAL_SECONDS)


def app_from_environment() -> Starlette:
    """The app ``serve`` runs in each worker process, from the settings it left in
    ``$PYWEBCODECS_SERVE_SETTINGS`` (uvicorn's ``--workers`` needs a factory to import)."""
    settings: dict[str, Any] = json.loads(os.environ[SERVE_SETTINGS_VARIABLE])
    workers = int(settings.pop("workers"))
    for name in LIMIT_SETTINGS:
        limit = settings[name]  # [per_second, burst] or None
        settings[name] = None if limit is None else RateLimit(*limit).divided(workers)
    return create_app(settings.pop("database_url"), **settings)


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
