"""What every endpoint shares: the store, the limits, the admin token, the clock, and how
a request's outcome becomes a JSON answer."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .payloads import PayloadError, parse_json_object
from .rate_limit import TokenBuckets, client_network
from .storage import SqlStore

UNAVAILABLE = "the usage service could not answer (its database is busy or down); retry later"
#: What a 503 asks the client to wait: a busy database is usually free again by then.
UNAVAILABLE_RETRY_SECONDS = 2
LOG = logging.getLogger(__name__)


class RateLimited(PayloadError):
    def __init__(self, retry_after: float, what: str) -> None:
        super().__init__(429, f"too many requests from this {what}; retry later")
        self.retry_after = retry_after


@dataclass
class Limits:
    """The token buckets, all in this process's memory (see :mod:`.rate_limit`).

    - ``network``: every request, per client network;
    - ``key_network``: events per public key *and* client network, so that whoever knows a
      site's public key (it is in the site's pages) can use up only their own share;
    - ``key``: events per public key from all networks together, a ceiling far above real
      traffic that bounds what a distributed flood can write;
    - ``login``: admin and dashboard requests per client network (credential guessing).
    """

    network: TokenBuckets
    key_network: TokenBuckets
    key: TokenBuckets
    login: TokenBuckets


@dataclass
class Service:
    limits: Limits
    admin_token: str | None
    max_body_bytes: int
    body_timeout: float = 10.0
    clock: Callable[[], float] = time.time
    store: SqlStore | None = None

    @property
    def db(self) -> SqlStore:
        assert self.store is not None, "the store opens in the app's lifespan"
        return self.store

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def limit_network(self, request: Request) -> None:
        """Per-network rate limit: the address is a dictionary key in memory, nothing more."""
        _take(self.limits.network, network_of(request), "network")

    def limit_login(self, request: Request) -> None:
        _take(self.limits.login, network_of(request), "network")

    def limit_key(self, public_key: str, request: Request) -> None:
        _take(self.limits.key_network, f"{public_key} {network_of(request)}", "network")
        _take(self.limits.key, public_key, "API key")

    def admin_allowed(self, request: Request) -> bool:
        given = bearer_token(request)
        token = self.admin_token
        return token is not None and given is not None and same_secret(given, token)

    async def read_json(self, request: Request) -> dict[str, object]:
        """The body, capped at ``max_body_bytes`` and ``body_timeout`` seconds while it is
        read (a client that stalls mid-body holds a connection no longer), parsed strictly."""
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in ("", "application/json", "text/plain"):
            raise PayloadError(415, "send the body as application/json")
        declared = request.headers.get("content-length")
        if declared is not None and (
            not declared.isascii() or not declared.isdigit() or int(declared) > self.max_body_bytes
        ):
            raise PayloadError(413, f"body is larger than {self.max_body_bytes} bytes")
        try:
            body = await asyncio.wait_for(self._read_body(request), self.body_timeout)
        except TimeoutError:
            raise PayloadError(
                408, f"the body did not arrive within {self.body_timeout:g} seconds"
            ) from None
        return parse_json_object(body)

    async def _read_body(self, request: Request) -> bytes:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.max_body_bytes:
                raise PayloadError(413, f"body is larger than {self.max_body_bytes} bytes")
        return bytes(body)


def _take(buckets: TokenBuckets, name: str, what: str) -> None:
    wait = buckets.take(name)
    if wait:
        raise RateLimited(wait, what)


def network_of(request: Request) -> str:
    """The client's network (``request.client`` is the peer, or the address a trusted proxy
    named: ``serve --forwarded-allow-ips``)."""
    return client_network(request.client.host if request.client else "unknown")


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of any two strings: :func:`hmac.compare_digest` raises on
    non-ASCII ``str``, so both are compared as SHA-256 digests of their UTF-8 bytes."""
    given_digest, expected_digest = (
        hashlib.sha256(text.encode("utf-8", "replace")).digest() for text in (given, expected)
    )
    return hmac.compare_digest(given_digest, expected_digest)


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def error_response(error: PayloadError, headers: dict[str, str] | None = None) -> JSONResponse:
    """``{"success": false, "error": message}`` with the error's status."""
    headers = dict(headers or {})
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, round(error.retry_after + 0.5)))
    elif error.status == 503:
        headers["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
    return JSONResponse({"success": False, "error": error.message}, error.status, headers)


async def json_answer(
    work: Callable[[], Awaitable[dict[str, object]]], headers: dict[str, str] | None = None
) -> Response:
    """``work()``'s result as JSON; a refusal as its error; anything else (the database is
    down or busy) as a JSON 503 with ``Retry-After``, never a bare 500."""
    try:
        return JSONResponse(await work(), headers=headers)
    except PayloadError as error:
        return error_response(error, headers)
    except Exception:
        LOG.exception("request failed")
        return error_response(PayloadError(503, UNAVAILABLE), headers)
