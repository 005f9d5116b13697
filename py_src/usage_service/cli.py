"""Terminal commands: ``keys create|revoke|list`` and ``serve``.

They hang under ``pywebcodecs`` (see :func:`register`) and under ``python -m
usage_service``. The database is ``--db URL``, else ``$PYWEBCODECS_DB``, else the SQLite
file ``./pywebcodecs-usage.sqlite3``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from .origins import valid_domain_pattern
from .rate_limit import RateLimit
from .storage import SqlStore, open_store

DEFAULT_DB = "pywebcodecs-usage.sqlite3"
T = TypeVar("T")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``keys`` and ``serve`` to a command's subparsers."""
    keys = subparsers.add_parser("keys", help="create, revoke and list usage API keys")
    actions = keys.add_subparsers(dest="keys_command", required=True)

    create = actions.add_parser("create", help="create a key pair; prints it as JSON")
    create.add_argument("--name", required=True, help="whose key this is")
    create.add_argument(
        "--allow-domain",
        action="append",
        default=[],
        metavar="D",
        help="accept events only from this host (example.com or *.example.com); repeatable",
    )
    _db_option(create)
    create.set_defaults(func=_create)

    revoke = actions.add_parser("revoke", help="revoke a key: its events are refused from now")
    revoke.add_argument("public_key")
    _db_option(revoke)
    revoke.set_defaults(func=_revoke)

    listing = actions.add_parser("list", help="list the keys as JSON (no secrets)")
    _db_option(listing)
    listing.set_defaults(func=_list)

    serve = subparsers.add_parser("serve", help="serve the app and the usage service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    _db_option(serve)
    serve.add_argument(
        "--static",
        type=Path,
        help="the built site to serve at / (default: $PYWEBCODECS_STATIC, else ./static)",
    )
    serve.add_argument(
        "--admin-token",
        default=os.environ.get("PYWEBCODECS_ADMIN_TOKEN"),
        help="enables /admin (default: $PYWEBCODECS_ADMIN_TOKEN)",
    )
    serve.add_argument(
        "--ip-limit",
        type=_limit,
        default="20/100",
        help="requests per client network (IPv4 address, IPv6 /64): RATE/BURST, or off",
    )
    serve.add_argument(
        "--key-limit",
        type=_limit,
        default="200/1000",
        help="events per API key and client network: RATE/BURST, or off",
    )
    serve.add_argument(
        "--key-ceiling",
        type=_limit,
        default="2000/10000",
        help="events per API key from all networks together: RATE/BURST, or off",
    )
    serve.add_argument(
        "--login-limit",
        type=_limit,
        default="1/20",
        help="dashboard and admin requests per client network: RATE/BURST, or off",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        default=None,
        metavar="LIST",
        help="comma-separated addresses or networks of proxies whose X-Forwarded-For is"
        " trusted (as uvicorn's option; * trusts any); default: trust no proxy",
    )
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="processes serving one database (limits are divided among them)",
    )
    serve.add_argument(
        "--keep-keyless-days",
        type=_positive,
        default=90,
        metavar="N",
        help="delete events sent without an API key after N days (default 90)",
    )
    serve.set_defaults(func=_serve)


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help=f"sqlite:///PATH, a path or postgresql://… (default: $PYWEBCODECS_DB or {DEFAULT_DB})",
    )


def _limit(text: str) -> RateLimit | None:
    try:
        return RateLimit.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of at least 1: {text!r}")
    return int(text)


def database_url(args: argparse.Namespace) -> str:
    return str(args.db or os.environ.get("PYWEBCODECS_DB") or DEFAULT_DB)


def _with_store(args: argparse.Namespace, work: Callable[[SqlStore], Awaitable[T]]) -> T:
    async def run() -> T:
        store = open_store(database_url(args))
        try:
            await store.migrate()
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


def _create(args: argparse.Namespace) -> int:
    bad = [domain for domain in args.allow_domain if not valid_domain_pattern(domain)]
    if bad:
        print(f"usage keys: not a domain or *.domain: {', '.join(bad)}", file=sys.stderr)
        return 2
    public_key, secret_key = _with_store(
        args, lambda store: store.create_key(args.name, args.allow_domain)
    )
    print(json.dumps({"public_key": public_key, "secret_key": secret_key}))
    return 0


def _revoke(args: argparse.Namespace) -> int:
    key = _with_store(args, lambda store: store.revoke_key(args.public_key))
    if key is None:
        print(f"usage keys: no key {args.public_key}", file=sys.stderr)
        return 1
    print(json.dumps({"public_key": key.public_key, "revoked": True}))
    return 0


def _list(args: argparse.Namespace) -> int:
    keys = _with_store(args, lambda store: store.keys())
    listing = [
        {
            "public_key": key.public_key,
            "name": key.name,
            "allowed_domains": list(key.allowed_domains),
            "created_at": _iso(key.created_at),
            "revoked_at": None if key.revoked_at is None else _iso(key.revoked_at),
        }
        for key in keys
    ]
    print(json.dumps(listing, indent=2))
    return 0


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import LIMIT_SETTINGS, SERVE_SETTINGS_VARIABLE
    from .server import uvicorn_options

    static = args.static or os.environ.get("PYWEBCODECS_STATIC")
    if static is None and Path("static").is_dir():
        static = "static"
    if static is not None and not Path(static).is_dir():
        print(f"usage serve: {static} is not a directory", file=sys.stderr)
        return 2
    settings = {
        "database_url": database_url(args),
        "static_dir": None if static is None else str(static),
        "admin_token": args.admin_token,
        "keep_keyless_days": args.keep_keyless_days,
        "workers": args.workers,
    }
    for name in LIMIT_SETTINGS:
        limit = getattr(args, name)
        settings[name] = None if limit is None else [limit.per_second, limit.burst]
    os.environ[SERVE_SETTINGS_VARIABLE] = json.dumps(settings)
    uvicorn.run(
        "usage_service.app:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        access_log=False,
        **uvicorn_options(args.forwarded_allow_ips),
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="usage_service", description=__doc__.splitlines()[0])
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
