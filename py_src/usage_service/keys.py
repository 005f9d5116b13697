"""API keys: a public key the page sends, a secret key that reads the counts.

Both are random tokens from :mod:`secrets` (``pub_`` + 128 bits, ``sec_`` + 256 bits).
Only the SHA-256 of the secret key is stored. A slow password hash (scrypt, argon2)
exists to make guessing a *low-entropy* password expensive; a 256-bit random token cannot
be guessed at any hashing speed, so one unsalted SHA-256 is enough, and it lets a login
look the key up by its hash in one indexed query.
"""

from __future__ import annotations

import hashlib
import re
import secrets

PUBLIC_PREFIX = "pub_"
SECRET_PREFIX = "sec_"
# token_urlsafe(n) gives about 1.3 * n characters of [A-Za-z0-9_-].
_KEY_SHAPE = re.compile(r"(?:pub|sec)_[A-Za-z0-9_-]{16,64}")
MAX_KEY_LENGTH = 80


def new_key_pair() -> tuple[str, str]:
    """A fresh ``(public_key, secret_key)``."""
    return PUBLIC_PREFIX + secrets.token_urlsafe(16), SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret_key: str) -> str:
    """The stored form of a secret key (hex SHA-256; see the module docstring for why)."""
    return hashlib.sha256(secret_key.encode()).hexdigest()


def well_formed(key: str, prefix: str) -> bool:
    """Whether ``key`` has the shape of a key we issue with ``prefix``."""
    return key.startswith(prefix) and _KEY_SHAPE.fullmatch(key) is not None
