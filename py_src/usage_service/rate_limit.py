"""Token-bucket rate limits, per client network and per API key, held in memory only.

A client is its network: an IPv4 address, or the /64 an IPv6 address is in (one
subscriber or one host is usually given a whole /64, so per-address IPv6 buckets would
give one client 2^64 of them).

Limits hold per process. ``serve --workers N`` divides every limit by N
(:meth:`RateLimit.divided`): the kernel spreads connections over the processes, so a client
meets about its share of the limit in each, and together they allow the configured rate.

The founding document allows the IP address only to reject invalid telemetry, so it is a
dictionary key here and nothing else: it is never logged or stored. The table is bounded:
it is kept in least-recently-used order, and past ``max_entries`` the least recently seen
client is forgotten (it starts again with a full bucket: limits fail open, never closed,
and a flood of new addresses cannot evict the clients that are active right now).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    """``per_second`` tokens refill a bucket of ``burst`` tokens; one request takes one."""

    per_second: float
    burst: float

    @classmethod
    def parse(cls, text: str) -> RateLimit | None:
        """``"20/100"`` (per second / burst) or ``"off"``."""
        if text == "off":
            return None
        rate, _, burst = text.partition("/")
        limit = cls(float(rate), float(burst or rate))
        if limit.per_second <= 0 or limit.burst < 1:
            raise ValueError("a rate limit is RATE/BURST with RATE > 0 and BURST >= 1, or off")
        return limit

    def divided(self, processes: int) -> RateLimit:
        """This limit's share in one of ``processes`` processes (a burst stays >= 1)."""
        return RateLimit(self.per_second / processes, max(1.0, self.burst / processes))


def client_network(address: str) -> str:
    """The bucket name of a client address: IPv4 as is, IPv6 as its /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class TokenBuckets:
    """One bucket per name (a client network, a key, or both)."""

    def __init__(
        self,
        limit: RateLimit | None,
        *,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit
        self._max_entries = max_entries
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, name: str) -> float:
        """Take a token: 0 if granted, else the seconds until one is available."""
        limit = self._limit
        if limit is None:
            return 0.0
        now = self._clock()
        tokens, then = self._buckets.pop(name, (limit.burst, now))
        tokens = min(limit.burst, tokens + (now - then) * limit.per_second)
        if tokens < 1:
            self._buckets[name] = (tokens, now)
            return (1 - tokens) / limit.per_second
        self._buckets[name] = (tokens - 1, now)
        if len(self._buckets) > self._max_entries:
            del self._buckets[next(iter(self._buckets))]
        return 0.0
