"""Interleaved A/B of the whole ask: two checkouts of qa, each with its own .venv and its own index built by its
own code, timed one after the other, run after run, so that both see the same machine (docs/speed.md).

    python bench/ask_ab.py --old ../wt-old --new . --size 10k --runs 5
    python bench/ask_ab.py --old ../wt-old --new . --size 100k --runs 5 --index-new bench/data/100k/changes

Each run is a child process of one checkout's own python, as one server worker: it loads the index, warms up,
then asks every question of <checkout>/bench/data/<size>/queries.json ROUNDS times: with the analysis cleared (a
new question), the analysis alone, and with the analysis cached (the ranking and the answer building). Prints one
JSON line per run (p50 of each question's median, in ms), then the medians over the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROUNDS = 3


def step(folder: str, queries: str, without_short_answer: str) -> None:
    """Child: one run against the qa its python imports (555c899's `index.load`, or `store.load` since)."""
    import numpy as np

    from qa import search, text

    try:
        from qa.store import load
    except ImportError:  # session 5's code
        from qa.index import load

    engine = search.Engine(load(Path(folder)))
    if without_short_answer == "yes":  # what the short answer costs
        search.short_answer = lambda *args: None
    questions = [q["question"] for q in json.loads(Path(queries).read_text(encoding="utf-8"))]
    engine.warm_up()
    # A new question: the analysis's cache, the one cache keyed by a question, cleared (on both sides).
    forget = text.analyse_question.cache_clear

    kinds = {
        "ask": lambda q: (forget(), engine.ask(q)),
        "analysis": lambda q: (forget(), text.analyse_question(q)),
        "cached": engine.ask,
    }
    taken = {kind: np.zeros((ROUNDS, len(questions))) for kind in kinds}
    for r in range(ROUNDS):
        for i, question in enumerate(questions):
            for kind, run in kinds.items():
                started = time.perf_counter()
                run(question)
                taken[kind][r, i] = time.perf_counter() - started
    figures = {kind: float(np.percentile(np.median(t, axis=0), 50) * 1000) for kind, t in taken.items()}
    print(json.dumps({**figures, "load": os.getloadavg()[0]}))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "step":
        step(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", type=Path, required=True, help="checkout A (its .venv, its bench/data)")
    parser.add_argument("--new", type=Path, required=True, help="checkout B")
    parser.add_argument("--size", default="10k")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--index-new", type=Path, help="B's index (default: <new>/bench/data/<size>/index)")
    parser.add_argument("--without-short-answer", action="store_true", help="a third side: B, short answer left out")
    args = parser.parse_args()
    sides = {"old": (args.old, None, "no"), "new": (args.new, args.index_new, "no")}
    if args.without_short_answer:
        sides["new, no short answer"] = (args.new, args.index_new, "yes")
    runs: dict[str, list[dict]] = {side: [] for side in sides}
    for _ in range(args.runs):
        for side, (checkout, folder, without) in sides.items():
            data = checkout.resolve() / "bench" / "data" / args.size
            command = [
                str(checkout.resolve() / ".venv" / "bin" / "python"),
                str(Path(__file__).resolve()),
                "step",
                str((folder or data / "index").resolve()),
                str(data / "queries.json"),
                without,
            ]
            done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True, cwd=checkout)
            runs[side].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(side, runs[side][-1], flush=True)
    for side, figures in runs.items():
        median = {k: statistics.median(f[k] for f in figures) for k in ("ask", "analysis", "cached")}
        loads = [f["load"] for f in figures]
        print(
            f"{side}: ask p50 {median['ask']:.3f} ms, analysis {median['analysis']:.3f} ms, cached ask"
            f" {median['cached']:.3f} ms (medians of {len(figures)} runs;"
            f" load average {min(loads):.1f}-{max(loads):.1f})"
        )


if __name__ == "__main__":
    main()
