"""The plain rank-bm25 service we are measured against: the same index, terms and server, ranked the plain way.

Each question is analysed as ours is, then scored with rank-bm25's `get_scores` over every passage and the
whole corpus sorted; answers carry the passage but no best sentence or highlights. It is served by the very
server `qa serve` runs (gunicorn, the same workers), so over HTTP the only difference is the ranking.

    python bench/baseline.py --index bench/data/10k/index --port 0     # prints "Serving on http://..."
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from qa import index, store
from qa.bm25 import FixedIdfBM25, term_hash
from qa.search import Answer, Engine, Result, check_question, check_top_k
from qa.text import analyse_question


class PlainEngine(Engine):
    """Engine.ask's shape, rank-bm25's ranking: scores every passage, sorts them all."""

    def __init__(self, loaded: index.Index):
        super().__init__(loaded)
        self.model = FixedIdfBM25(index.passage_terms(loaded))

    def warm_up(self) -> None:
        """underthesea's model loaded; rank-bm25 has no compiled ranking to load (numba would only cost memory)."""
        self.ask("khởi động")

    def ask(self, question: str, top_k: int = 3, filters=None, history=()) -> Result:
        if filters or history:
            raise NotImplementedError(
                "the baseline ranks every passage of the question alone; it takes no filters and no history"
            )
        started = time.perf_counter()
        question, top_k = check_question(question), check_top_k(top_k)
        terms = analyse_question(question).terms
        rows = self.index.postings.segments[0].rows(term_hash([term for term, _ in terms]))  # passage_terms' ids
        asked = [int(row) for row, (_, count) in zip(rows, terms) if row >= 0 for _ in range(count)]
        scores = np.asarray(self.model.get_scores(asked))
        best = np.argsort(-scores, kind="stable")[:top_k]
        answers = []
        for rank, number in enumerate(best.tolist(), start=1):
            p = self.index.passage(number)
            answers.append(Answer(rank, p.id, p.doc_id, p.title, p.text, round(float(scores[number]), 6), "", []))
        took = (time.perf_counter() - started) * 1000
        return Result(question, bool(answers) and bool(scores[best[0]] > 0), answers, round(took, 3))


def main() -> None:
    from qa.server import run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="an index folder built by `qa index build`")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    run(
        PlainEngine(store.load(args.index)),
        args.host,
        args.port,
        (),
        on_ready=lambda url: print(f"Serving on {url} (Ctrl-C to stop)", flush=True),
    )
    print("Stopped.")


if __name__ == "__main__":
    main()
