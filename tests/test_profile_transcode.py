"""The stage accounting that build_scripts/profile_transcode.py runs in the page's Pyodide:
run here in CPython on stand-in stages, each stage's time must exclude the stages it calls
and the time its coroutines are suspended, and the originals must come back."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import types
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "build_scripts"))

from profile_transcode import INSTRUMENT, UNINSTRUMENT

STEP = 0.02


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("stand_in_stages")

    def inner() -> None:
        time.sleep(STEP)

    def outer() -> None:
        time.sleep(STEP)
        module.inner()

    async def waits() -> None:
        time.sleep(STEP)
        await asyncio.sleep(5 * STEP)  # suspended: no stage's time
        module.inner()

    async def packets() -> AsyncIterator[int]:
        for n in range(2):
            time.sleep(STEP)
            yield n

    module.inner, module.outer, module.waits, module.packets = inner, outer, waits, packets
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


def test_stages_are_charged_their_own_time_only(stand_in: types.ModuleType) -> None:
    name = stand_in.__name__
    stages = {s: [[name, None, s]] for s in ("inner", "outer", "waits", "packets")}
    scope: dict[str, object] = {"STAGES": json.dumps(stages)}
    originals = {s: getattr(stand_in, s) for s in stages}
    exec(INSTRUMENT, scope)
    assert stand_in.outer is not originals["outer"]  # wrapped

    async def convert() -> None:
        stand_in.outer()
        await stand_in.waits()
        async for _ in stand_in.packets():
            pass

    asyncio.run(convert())
    report = json.loads(eval("_pwc.report()", scope))
    total, calls = report["total"], report["calls"]
    assert calls == {"outer": 1, "inner": 2, "waits": 1, "packets": 3}
    assert total["inner"] == pytest.approx(2 * STEP, abs=STEP / 2)
    assert total["outer"] == pytest.approx(STEP, abs=STEP / 2)
    assert total["waits"] == pytest.approx(STEP, abs=STEP / 2)  # not the 5 suspended
    assert total["packets"] == pytest.approx(2 * STEP, abs=STEP / 2)
    exec(UNINSTRUMENT, scope)
    assert {s: getattr(stand_in, s) for s in stages} == originals
