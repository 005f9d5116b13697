"""Origins as pages report them (``location.origin``), and how an event is classified.

An origin is ``scheme "://" host [":" port]`` (RFC 6454 §6.2, the WHATWG URL
"ASCII serialization of an origin"): no path, no user info, no query. Browsers report
``"null"`` for opaque origins and Chromium ``"file://"`` for local files; both are accepted
and count as development.

Classification (the reference client's three classes):

- ``failed``: the conversion did not succeed;
- ``development``: the page ran where only its developer can reach it: ``localhost`` and
  ``*.localhost`` (RFC 6761 §6.3), ``.local`` (mDNS, RFC 6762), loopback, private
  (RFC 1918, RFC 4193), link-local (RFC 3927, RFC 4291) and unspecified addresses,
  ``file://`` and ``null``;
- ``billable``: everything else. The other reserved names of RFC 2606/6761 (``.test``,
  ``.example``, ``.invalid``) stay billable on purpose: they resolve only through a
  deliberately configured resolver, which is how staging hosts and the end-to-end test
  (``http://app.example.test:PORT``) are set up, and those are real deployments.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

MAX_ORIGIN_LENGTH = 300
OPAQUE_ORIGINS = ("null", "file://")
_ORIGIN = re.compile(r"(https?)://(\[[0-9a-fA-F:.]+\]|[^:/\[\]@?#\s]+)(?::([1-9][0-9]{0,4}))?")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_DEVELOPMENT_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
)
_DEVELOPMENT_NAMES = ("localhost", "local")

BILLABLE = "billable"
DEVELOPMENT = "development"
FAILED = "failed"
CLASSIFICATIONS = (BILLABLE, DEVELOPMENT, FAILED)


class OriginError(ValueError):
    """The text is not an origin; the message says what is wrong with it."""


@dataclass(frozen=True)
class Origin:
    """A parsed origin; ``host`` is lower-case, IPv6 without brackets, empty if opaque."""

    text: str
    host: str
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None

    @property
    def opaque(self) -> bool:
        return self.text in OPAQUE_ORIGINS


def parse_origin(text: str) -> Origin:
    """Parse ``location.origin`` strictly; raises :class:`OriginError`."""
    if len(text) > MAX_ORIGIN_LENGTH:
        raise OriginError(f"host is longer than {MAX_ORIGIN_LENGTH} characters")
    if text in OPAQUE_ORIGINS:
        return Origin(text, "", None)
    match = _ORIGIN.fullmatch(text)
    if match is None:
        raise OriginError(
            "host must be an origin: http(s)://host[:port] with no path, query or user info"
            f" (got {text[:80]!r})"
        )
    scheme, host, port = match.groups()
    if port is not None and int(port) > 65535:
        raise OriginError(f"host has port {port}, past 65535")
    host = host.lower()
    if host.startswith("["):
        try:
            address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.IPv6Address(
                host[1:-1]
            )
        except ValueError:
            raise OriginError(f"host has a malformed IPv6 address {host!r}") from None
    else:
        address = _parse_name_or_ipv4(host)
    normalized = f"{scheme}://{host}" + (f":{port}" if port else "")
    return Origin(normalized, host.strip("[]"), address)


def _parse_name_or_ipv4(host: str) -> ipaddress.IPv4Address | None:
    labels = host.split(".")
    if labels[-1].isdigit():
        try:
            return ipaddress.IPv4Address(host)
        except ValueError:
            raise OriginError(f"host has a malformed IPv4 address {host!r}") from None
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise OriginError(f"host has an invalid domain name {host!r}")
    return None


def valid_domain_pattern(pattern: str) -> bool:
    """An allow-list entry: a domain name, or ``*.`` followed by one."""
    name = pattern.removeprefix("*.")
    try:
        return _parse_name_or_ipv4(name.lower()) is None and name == name.lower()
    except OriginError:
        return False


def host_allowed(origin: Origin, patterns: tuple[str, ...]) -> bool:
    """Whether ``origin``'s host is on a key's allow-list (empty list: any host).

    ``example.com`` allows exactly that host; ``*.example.com`` allows its subdomains
    (not ``example.com`` itself: list both for both). Ports are not part of the match.
    """
    if not patterns:
        return True
    for pattern in patterns:
        if pattern.startswith("*."):
            if origin.host.endswith(pattern[1:]):
                return True
        elif origin.host == pattern:
            return True
    return False


def classify(origin: Origin, succeeded: bool) -> str:
    """``failed``, ``development`` or ``billable`` (see the module docstring)."""
    if not succeeded:
        return FAILED
    return DEVELOPMENT if is_development(origin) else BILLABLE


def is_development(origin: Origin) -> bool:
    """Whether the page was served where only its developer reaches it."""
    if origin.opaque:
        return True
    address = origin.address
    if address is None:
        return origin.host.rsplit(".", 1)[-1] in _DEVELOPMENT_NAMES
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in _DEVELOPMENT_NETWORKS)
