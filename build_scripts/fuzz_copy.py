"""The long fuzz run of the copy pipeline: many damaged inputs of every format through
reader → interleaver → muxer, each output opened by ffprobe.

Counts the outcomes (ok, refused with a PyWebCodecsError, crash, hang, bad output) per
seed and lists every crash, hang and bad output with its place; ``--save DIR`` keeps each
finding's damaged file (``DIR/<number>-<file>``) to replay it. The suite runs the same
check, bounded, in ``tests/test_copy_pipeline_fuzz.py``.

Run: ``.venv/bin/python build_scripts/fuzz_copy.py [--inputs 5000] [--seed 1] [--save DIR]``.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from copy_fuzz import UNREADABLE_LIKE_INPUT, Seed, copy_damaged, mutate, seeds  # noqa: E402


def damaged_input(rng: random.Random, seed: Seed) -> tuple[str, bytes, str]:
    """A random damaged file of ``seed`` (which file, its bytes) and an output container."""
    name = rng.choice(sorted(seed.files))
    data = seed.files[name]
    size = max(len(data), 1)
    edits = [(rng.randrange(size), rng.randrange(256)) for _ in range(rng.randrange(9))]
    splice = (rng.randrange(size), rng.choice((0, 0, rng.randrange(1, 2000))), rng.randrange(size))
    cut = size if rng.random() < 0.5 else rng.randrange(size + 1)
    return name, mutate(data, cut, edits, splice), rng.choice(seed.containers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=5000, help="damaged inputs to convert")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--save", type=Path, help="folder for the damaged files of findings")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    all_seeds = seeds()
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    findings: list[str] = []
    started = time.monotonic()
    for number in range(args.inputs):
        seed = all_seeds[number % len(all_seeds)]
        name, data, container = damaged_input(rng, seed)
        outcome = copy_damaged(seed, name, data, container)
        counts[seed.name][outcome.kind] += 1
        if outcome.kind not in ("ok", "refused"):
            findings.append(f"#{number} {seed.name}/{name} → {container}: {outcome.kind}: "
                            f"{outcome.detail}")  # fmt: skip
            print(findings[-1], flush=True)
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"{number}-{name}").write_bytes(data)
    elapsed = time.monotonic() - started
    kinds = ("ok", "refused", "crash", "hang", "bad output", UNREADABLE_LIKE_INPUT)
    print(f"\n{'seed':<16}" + "".join(f"{kind.split()[0]:>12}" for kind in kinds))
    for name, counter in counts.items():
        print(f"{name:<16}" + "".join(f"{counter[kind]:>12}" for kind in kinds))
    total = sum(counts.values(), collections.Counter())
    print(f"{'total':<16}" + "".join(f"{total[kind]:>12}" for kind in kinds))
    print(f"\n{args.inputs} inputs in {elapsed:.0f} s; {len(findings)} findings "
          f"({total[UNREADABLE_LIKE_INPUT]} of them unreadable like their input)")  # fmt: skip
    bugs = len(findings) - total[UNREADABLE_LIKE_INPUT]
    sys.exit(1 if bugs else 0)


if __name__ == "__main__":
    main()
