"""Origins as pages report them (``location.origin``), and how an event is classified.

An origin is ``scheme "://" host [":" port]`` (RFC 6454 §6.2, the WHATWG URL
"ASCII serialization of an origin"): no path, no user info, no query. Browsers report
``"null"`` for opaque origins and Chromium ``"file://"`` for local files; both are accepted
and count as development.

An origin is normalised the way the WHATWG URL parser would before it is classified or
stored, so that one site is one row and a spelling cannot change its class: the default
port is dropped (``https://a.com:443`` is ``https://a.com``), IPv6 is compressed,
numeric IPv4 spellings become dotted decimal (``http://0x7f000001`` is
``http://127.0.0.1``, development), and a Unicode name becomes lower-case punycode.

Classification (the reference client's three classes):

- ``failed``: the conversion did not succeed;
- ``development``: the page ran where only its developer can reach it: ``localhost`` and
  ``*.localhost`` (RFC 6761 §6.3), ``.local`` (mDNS, RFC 6762), loopback, private
  (RFC 1918, RFC 4193), link-local (RFC 3927, RFC 4291) and unspecified addresses,
  ``file://`` and ``null``;
- ``billable``: everything else, including "no origin" (``host: null``, which
  ``@remotion/licensing`` allows): such events come from servers (a cloud render, a Node
  script), which are real uses, and a page can never send one (see ``track``).

The other reserved names of RFC 2606/6761 (``.test``, ``.example``, ``.invalid``) stay
billable on purpose: they resolve only through a deliberately configured resolver, which
is how staging hosts and the end-to-end test (``http://app.example.test:PORT``) are set
up, and those are real deployments.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

MAX_ORIGIN_LENGTH = 300
OPAQUE_ORIGINS = ("null", "file://")
_ORIGIN = re.compile(r"(https?)://(\[[0-9a-fA-F:.]+\]|[^:/\[\]@?#\s]+)(?::([1-9][0-9]{0,4}))?")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_IPV4_PART = re.compile(r"0[xX][0-9a-fA-F]*|[0-9]+")
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
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    if host.startswith("["):
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise OriginError(f"host has a malformed IPv6 address {host!r}") from None
        host = f"[{address.compressed}]"
    else:
        host = _ascii_name(host)
        address = _parse_name_or_ipv4(host)
        if address is not None:
            host = str(address)
    normalized = f"{scheme}://{host}" + (f":{port}" if port else "")
    return Origin(normalized, host.strip("[]"), address)


def _ascii_name(host: str) -> str:
    """``host`` lower-case, a Unicode name as punycode (IDNA), as browsers send it."""
    if host.isascii():
        return host.lower()
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise OriginError(f"host has an invalid international domain name {host!r}") from None


def _parse_name_or_ipv4(host: str) -> ipaddress.IPv4Address | None:
    labels = host.split(".")
    if _IPV4_PART.fullmatch(labels[-1]):
        return _parse_ipv4(host)
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise OriginError(f"host has an invalid domain name {host!r}")
    return None


def _parse_ipv4(host: str) -> ipaddress.IPv4Address:
    """The WHATWG URL IPv4 parser: 1 to 4 parts, each decimal, ``0x`` hex or ``0`` octal;
    the last part fills the bytes the others leave (``127.1`` is ``127.0.0.1``)."""
    malformed = OriginError(f"host has a malformed IPv4 address {host!r}")
    parts = host.split(".")
    if len(parts) > 4 or not all(_IPV4_PART.fullmatch(part) for part in parts):
        raise malformed
    numbers = []
    for part in parts:
        if part[:2].lower() == "0x":
            numbers.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if not set(part) <= set("01234567"):
                raise malformed
            numbers.append(int(part, 8))
        else:
            numbers.append(int(part))
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        raise malformed
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


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


def classify(origin: Origin | None, succeeded: bool) -> str:
    """``failed``, ``development`` or ``billable`` (see the module docstring); ``None`` is
    "no origin" (``host: null``)."""
    if not succeeded:
        return FAILED
    return DEVELOPMENT if origin is not None and is_development(origin) else BILLABLE


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
