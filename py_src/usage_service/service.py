"""What every endpoint shares: the store, the limits, the admin token, the clock."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse

from .payloads import PayloadError, parse_json_object
from .rate_limit import TokenBuckets
from .storage import SqlStore


class RateLimited(PayloadError):
    def __init__(self, retry_after: float, what: str) -> None:
        super().__init__(429, f"too many requests from this {what}; retry later")
        self.retry_after = retry_after


@dataclass
class Service:
    ip_buckets: TokenBuckets
    key_buckets: TokenBuckets
    admin_token: str | None
    max_body_bytes: int
    clock: Callable[[], float] = time.time
    store: SqlStore | None = None

    @property
    def db(self) -> SqlStore:
        assert self.store is not None, "the store opens in the app's lifespan"
        return self.store

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def limit_ip(self, request: Request) -> None:
        """Per-IP rate limit: the address is a dictionary key in memory, nothing more."""
        address = request.client.host if request.client else "unknown"
        wait = self.ip_buckets.take(address)
        if wait:
            raise RateLimited(wait, "address")

    def limit_key(self, public_key: str) -> None:
        wait = self.key_buckets.take(public_key)
        if wait:
            raise RateLimited(wait, "API key")

    def admin_allowed(self, request: Request) -> bool:
        given = bearer_token(request)
        token = self.admin_token
        return token is not None and given is not None and hmac.compare_digest(given, token)

    async def read_json(self, request: Request) -> dict[str, object]:
        """The body, capped at ``max_body_bytes`` while it is read, parsed strictly."""
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in ("", "application/json", "text/plain"):
            raise PayloadError(415, "send the body as application/json")
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            raise PayloadError(413, f"body is larger than {self.max_body_bytes} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.max_body_bytes:
                raise PayloadError(413, f"body is larger than {self.max_body_bytes} bytes")
        return parse_json_object(bytes(body))


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def error_response(error: PayloadError, headers: dict[str, str] | None = None) -> JSONResponse:
    """``{"success": false, "error": message}`` with the error's status."""
    headers = dict(headers or {})
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, round(error.retry_after + 0.5)))
    return JSONResponse({"success": False, "error": error.message}, error.status, headers)
