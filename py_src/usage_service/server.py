"""How the service runs under uvicorn: its time-outs and limits, the proxy it trusts, and
a background-thread runner.

Every connection is bounded: the request line and headers must arrive within
:data:`HEADER_TIMEOUT` seconds of connecting (or of the previous response), a head still
incomplete past 16 KiB is refused (h11 parses a head that arrives whole in one read
whatever its size: a bounded read, so no unbounded memory), an idle keep-alive
connection closes after 5 s, at most
:data:`MAX_CONNECTIONS` connections are served at once (uvicorn answers 503 past that),
and the app itself gives up on a body that stalls (``create_app(body_timeout=…)``).

uvicorn trusts ``X-Forwarded-For`` from loopback unless told otherwise; here no proxy is
trusted unless one is named (``serve --forwarded-allow-ips``), so a client cannot pick
the address its rate limit is counted under.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT = 10.0
MAX_CONNECTIONS = 1000


class TimedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request's head.

    uvicorn's own keep-alive timer restarts on every byte received, so a client sending a
    header byte at a time would hold the connection for ever; this deadline does not move.
    """

    head_timeout = HEADER_TIMEOUT
    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
        super().connection_lost(exc)

    def _arm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
        self._head_deadline = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _head_too_slow(self) -> None:
        waiting_for_head = self.cycle is None or self.cycle.response_complete
        if waiting_for_head and not self.transport.is_closing():
            self.transport.close()


def uvicorn_options(
    forwarded_allow_ips: str | None = None, head_timeout: float = HEADER_TIMEOUT
) -> dict[str, Any]:
    """The uvicorn settings both ``serve`` and :class:`ServiceThread` run with.

    ``serve --workers`` pickles the settings for its worker processes, so the protocol is
    the module's own class unless a test asks for another head time-out.
    """
    protocol: type[TimedH11Protocol] = TimedH11Protocol
    if head_timeout != TimedH11Protocol.head_timeout:
        protocol = type("TimedH11Protocol", (TimedH11Protocol,), {"head_timeout": head_timeout})
    return {
        "http": protocol,
        "timeout_keep_alive": 5,
        "h11_max_incomplete_event_size": 16 * 1024,
        "limit_concurrency": MAX_CONNECTIONS,
        "proxy_headers": forwarded_allow_ips is not None,
        "forwarded_allow_ips": forwarded_allow_ips or "",
    }


class ServiceThread:
    """``with ServiceThread(app) as service: service.url``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        forwarded_allow_ips: str | None = None,
        head_timeout: float = HEADER_TIMEOUT,
    ) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="on",
            **uvicorn_options(forwarded_allow_ips, head_timeout),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.url = ""

    def start(self, timeout: float = 30.0) -> ServiceThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the usage service did not start (see the log above)")
            time.sleep(0.01)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)

    def __enter__(self) -> ServiceThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
