"""The token buckets behind the 429s: refill timing, Retry-After, and a bounded table."""

from __future__ import annotations

import pytest

from usage_service.rate_limit import RateLimit, TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_refills_at_its_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(RateLimit(per_second=2, burst=3), clock=clock)
    assert [buckets.take("1.2.3.4") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("1.2.3.4") == pytest.approx(0.5)
    assert buckets.take("5.6.7.8") == 0.0
    clock.now += 0.5
    assert buckets.take("1.2.3.4") == 0.0
    assert buckets.take("1.2.3.4") == pytest.approx(0.5)
    clock.now += 60
    assert [buckets.take("1.2.3.4") for _ in range(4)][-1] > 0


def test_no_limit_never_refuses() -> None:
    buckets = TokenBuckets(None)
    assert all(buckets.take("x") == 0.0 for _ in range(10_000))


def test_a_flood_of_new_clients_does_not_free_the_active_one() -> None:
    buckets = TokenBuckets(RateLimit(per_second=1, burst=2), max_entries=100, clock=Clock())
    buckets.take("busy")
    buckets.take("busy")
    for number in range(1000):
        buckets.take(f"new-{number}")
        if number % 50 == 0:
            assert buckets.take("busy") > 0
    assert len(buckets._buckets) == 100
    assert "new-0" not in buckets._buckets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20/100", RateLimit(20, 100)),
        ("5", RateLimit(5, 5)),
        ("0.5/2", RateLimit(0.5, 2)),
        ("off", None),
    ],
)
def test_parses_limits_from_the_command_line(text: str, expected: RateLimit | None) -> None:
    assert RateLimit.parse(text) == expected


@pytest.mark.parametrize("text", ["0/10", "-1/5", "10/0", "fast", "1/2/3"])
def test_refuses_meaningless_limits(text: str) -> None:
    with pytest.raises(ValueError):
        RateLimit.parse(text)
