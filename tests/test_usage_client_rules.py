"""The browser client's delivery rules (:mod:`pywebcodecs.usage`), in CPython: which
answers drop an event, which keep it for later, and how long later is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pywebcodecs.usage import (
    FIRST_BACKOFF_SECONDS,
    MAX_BACKOFF_SECONDS,
    backoff_seconds,
    outcome,
    retry_after_seconds,
)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, "sent"),
        (204, "sent"),
        (400, "refused"),
        (401, "refused"),
        (403, "refused"),
        (409, "refused"),
        (408, "later"),
        (413, "later"),
        (429, "later"),
        (500, "later"),
        (502, "later"),
        (503, "later"),
        (504, "later"),
        (404, "later"),
    ],
)
def test_only_a_refusal_on_the_merits_drops_an_event(status: int, expected: str) -> None:
    assert outcome(status) == expected


NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, 0.0),
        ("", 0.0),
        ("7", 7.0),
        (" 12 ", 12.0),
        ("999999", MAX_BACKOFF_SECONDS),
        ("Fri, 20 Mar 2026 12:00:30 GMT", 30.0),
        ("Fri, 20 Mar 2026 11:00:00 GMT", 0.0),
        ("soon", 0.0),
        ("-5", 0.0),
        ("\u00b2", 0.0),
    ],
)
def test_reads_retry_after_in_both_forms(header: str | None, seconds: float) -> None:
    assert retry_after_seconds(header, NOW) == seconds


def test_backoff_doubles_up_to_a_cap_and_honours_the_service() -> None:
    waits = [backoff_seconds(n) for n in range(1, 12)]
    assert waits[:4] == [FIRST_BACKOFF_SECONDS * 2**k for k in range(4)]
    assert waits == sorted(waits) and waits[-1] == MAX_BACKOFF_SECONDS
    assert backoff_seconds(1, retry_after=60) == 60
    assert backoff_seconds(10**6) == MAX_BACKOFF_SECONDS
