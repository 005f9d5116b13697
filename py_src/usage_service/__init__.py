"""The usage service: counts the engine's conversions per site (issue 4).

Every finished conversion posts one event to ``/api/track/register-usage-point``; the
service validates it, classifies it (``billable``, ``development`` or ``failed``), stores
it once per ``eventId`` and lets a key's owner read the counts (``get-usage``, the
dashboard) and the operator see every origin (``/admin``). It is host-side CPython and is
never shipped to the browser.
"""

from .app import create_app

__all__ = ["create_app"]
