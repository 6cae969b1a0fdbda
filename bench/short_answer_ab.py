"""Interleaved A/B of short_answer() alone: another checkout's qa/short_answer.py against this one's, on the
arguments the engine gives it for the tune questions of a SQuAD-format file (docs/quality.md, "Cost of the third
round").

    python bench/short_answer_ab.py ../shared/data/xquad-vi/xquad.vi.json --old ../wt-old --rounds 15

The old module is loaded from its file as part of this checkout's package (its relative imports, such as .text, are
this checkout's). Each question's two calls are timed one after the other, the order alternating, ROUNDS times, and
each question's least time is kept: what other processes' load adds is left out. Prints the median and mean over
the questions, in ms, and their ratio.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

from train_short_answer import calls

from qa import short_answer


def load_old(checkout: Path):
    """The other checkout's short_answer module, importable beside this checkout's."""
    spec = importlib.util.spec_from_file_location("qa._short_answer_old", checkout / "qa" / "short_answer.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # where its dataclasses look their annotations up
    spec.loader.exec_module(module)
    return module


def least_times(rows: list[tuple], functions: dict, rounds: int) -> dict[str, list[int]]:
    """Each function's least time (ns) on each row of arguments over the rounds, the two called in turn."""
    least = {name: [2**63] * len(rows) for name in functions}
    names = list(functions)
    for r in range(rounds):
        for i, args in enumerate(rows):
            for name in names if (r + i) % 2 else names[::-1]:
                started = time.perf_counter_ns()
                functions[name](*args)
                took = time.perf_counter_ns() - started
                least[name][i] = min(least[name][i], took)
    return least


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="a SQuAD-format JSON file")
    parser.add_argument("--old", type=Path, required=True, help="the other checkout")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    rows = [found for found, _ in calls(args.dataset, "tune") if found]
    functions = {"old": load_old(args.old).short_answer, "new": short_answer.short_answer}
    least = least_times(rows, functions, args.rounds)
    for name, times in least.items():
        print(f"{name}: median {statistics.median(times) / 1e6:.4f} ms, mean {statistics.mean(times) / 1e6:.4f} ms")
    old, new = least["old"], least["new"]
    print(f"new / old: median ×{statistics.median(new) / statistics.median(old):.3f}, mean ×{sum(new) / sum(old):.3f}")


if __name__ == "__main__":
    main()
