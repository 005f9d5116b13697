"""Damaged input of every format the engine reads, copied into every container its codecs
fit: nothing but a PyWebCodecsError leaves convert_media, no conversion runs past its time
limit, and every output written opens in ffprobe with each copied track (unless ffprobe
cannot open the damaged input either: see ``copy_fuzz``).

A few hundred examples keep this within the suite's budget (about a minute on an idle
machine); ``build_scripts/fuzz_copy.py`` runs the same check for thousands.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copy_fuzz import UNREADABLE_LIKE_INPUT, copy_damaged, mutate, seeds

SEEDS = seeds()


@st.composite
def damaged_inputs(draw: st.DrawFn) -> tuple[str, str, bytes, str]:
    """(seed name, damaged file, its bytes, output container)."""
    seed = draw(st.sampled_from(SEEDS))
    name = draw(st.sampled_from(sorted(seed.files)))
    data = seed.files[name]
    positions = st.integers(0, max(len(data) - 1, 0))
    cut = draw(st.one_of(st.just(len(data)), st.integers(0, len(data))))
    edits = draw(st.lists(st.tuples(positions, st.integers(0, 255)), max_size=8))
    splice = draw(st.tuples(positions, st.sampled_from([0, 0, 16, 188, 1000]), positions))
    container = draw(st.sampled_from(seed.containers))
    return seed.name, name, mutate(data, cut, edits, splice), container


@pytest.mark.timeout(300)
@settings(max_examples=250, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(damaged=damaged_inputs())
def test_damaged_inputs_copy_or_fail_with_a_pywebcodecs_error(
    damaged: tuple[str, str, bytes, str],
) -> None:
    seed_name, name, data, container = damaged
    seed = next(seed for seed in SEEDS if seed.name == seed_name)
    outcome = copy_damaged(seed, name, data, container)
    allowed = ("ok", "refused", UNREADABLE_LIKE_INPUT)
    assert outcome.kind in allowed, (seed_name, name, container, outcome)


def test_every_seed_copies_cleanly_into_every_container_it_fits() -> None:
    """The undamaged seeds are good input: the fuzz starts from conversions that work."""
    for seed in SEEDS:
        for container in seed.containers:
            outcome = copy_damaged(seed, seed.main, seed.files[seed.main], container)
            assert outcome.kind == "ok", (seed.name, container, outcome)
