"""Train the short-answer span scorer on the tune split of a SQuAD-format file and write qa/span_weights.py.

    ./.venv/bin/python bench/train_short_answer.py ../shared/data/xquad-vi/xquad.vi.json

Each tune question is asked of an index of the file's paragraphs, as `qa eval` does; where the top answer is
found, every candidate span of its best sentence (qa.short_answer.candidate_spans) is one example, labelled with
its token F1 against the gold answers. A logistic regression (numpy, Newton's method, an L2 penalty) learns to
estimate that F1 from the span's features; the confidence threshold is the one with the best F1 among the
questions given an answer while the share given one stays at least --coverage (halfway to the next question's
confidence). Only the tune split is read: the held-out split stays a figure measured after.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np

from qa import search
from qa.evaluate import _engine_for, token_f1
from qa.short_answer import FEATURES, candidate_spans

OUT = Path(__file__).resolve().parent.parent / "qa" / "span_weights.py"


@dataclass(frozen=True)
class Candidates:
    """One question's candidate spans: their features (a row each) and their token F1 against the gold answers."""

    features: np.ndarray
    f1: np.ndarray


def calls(dataset: Path, split: str) -> list[tuple[tuple | None, tuple[str, ...]]]:
    """For every question of the split, the arguments the engine gives short_answer (the question, the top answer's
    text, best sentence and matched words, the question in its context; None when that answer is not found), with
    the question's gold answers."""
    with tempfile.TemporaryDirectory() as build:
        engine, asked = _engine_for(dataset, None, split, Path(build))
        found = []
        for question in asked:
            with mock.patch.object(search, "short_answer", return_value=None) as called:
                engine.ask(question.text, 1)
            found.append((called.call_args.args if called.called else None, question.answers))
    return found


def questions(dataset: Path, split: str) -> list[Candidates]:
    """Every question of the split, with the candidates of the sentence the engine would read a short answer off
    (none when its top answer is not found)."""
    return [_candidates(args, golds) if args else _candidates() for args, golds in calls(dataset, split)]


def _candidates(args: tuple = (), golds: tuple[str, ...] = ()) -> Candidates:
    spans = candidate_spans(*args) if args else []
    text = args[1] if args else ""
    features = np.array([s.features for s in spans], dtype=float).reshape(len(spans), len(FEATURES))
    return Candidates(features, np.array([token_f1(text[s.start : s.end], golds) for s in spans]))


def fit(features: np.ndarray, f1: np.ndarray, penalty: float = 1.0, steps: int = 30) -> np.ndarray:
    """The logistic regression's weights, the bias last, that best predict each span's F1 (soft labels)."""
    x = np.hstack([features, np.ones((len(features), 1))])
    weights = np.zeros(x.shape[1])
    ridge = penalty * np.eye(x.shape[1])
    ridge[-1, -1] = 0.0  # the bias is not penalised
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-x @ weights))
        gradient = x.T @ (p - f1) + ridge @ weights
        hessian = (x * (p * (1 - p))[:, None]).T @ x + ridge
        weights -= np.linalg.solve(hessian, gradient)
    return weights


def choose(asked: list[Candidates], weights: np.ndarray) -> list[tuple[float, float]]:
    """For each question with a candidate: the best candidate's confidence and its F1."""
    chosen = []
    for question in asked:
        if len(question.f1):
            scores = question.features @ weights[:-1] + weights[-1]
            best = int(np.argmax(scores))
            chosen.append((float(1.0 / (1.0 + np.exp(-scores[best]))), float(question.f1[best])))
    return chosen


def threshold(chosen: list[tuple[float, float]], total: int, coverage: float) -> tuple[float, float, float]:
    """The confidence threshold with the best mean F1 over the answers given while at least `coverage` of the
    `total` questions are given one (halfway between the last confidence kept and the next); with that coverage and
    F1."""
    ranked = sorted(chosen, reverse=True) + [(0.0, 0.0)]
    best = (0.0, 0.0, -1.0)
    f1_sum = 0.0
    for given, (confidence, f1) in enumerate(ranked[:-1], start=1):
        f1_sum += f1
        below = ranked[given][0]
        if below < confidence and given / total >= coverage and f1_sum / given > best[2]:
            best = ((confidence + below) / 2, given / total, f1_sum / given)
    return best


def write(out: Path, weights: np.ndarray, cut: float, command: str) -> None:
    rows = "\n".join(f"    {w:.4f},  # {name}" for name, w in zip(FEATURES, weights[:-1]))
    names = "\n".join(f'    "{name}",' for name in FEATURES)
    out.write_text(
        f'"""The short-answer span scorer\'s weights (qa.short_answer.FEATURES, in order), its bias and confidence\n'
        f"threshold, made by bench/train_short_answer.py; not edited by hand. Made with:\n\n"
        f"    {command}\n"
        f'"""\n\nFEATURES = (\n{names}\n)\nWEIGHTS = (\n{rows}\n)\nBIAS = {weights[-1]:.4f}\n'
        f"THRESHOLD = {cut:.6f}\n",
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="a SQuAD-format JSON file")
    parser.add_argument("--split", default="tune", choices=("tune", "all"))
    parser.add_argument("--coverage", type=float, default=0.54, help="the least share of questions given an answer")
    parser.add_argument("--penalty", type=float, default=1.0, help="the L2 penalty on the weights")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    asked = questions(args.dataset, args.split)
    features = np.vstack([q.features for q in asked])
    weights = fit(features, np.concatenate([q.f1 for q in asked]), args.penalty).round(4)  # as written
    cut, share, f1 = threshold(choose(asked, weights), len(asked), args.coverage)
    command = "./.venv/bin/python bench/train_short_answer.py " + " ".join(argv if argv is not None else sys.argv[1:])
    write(args.out, weights, cut, command)
    print(f"{len(asked)} questions, {len(features)} spans; threshold {cut:.4f}: coverage {share:.4f}, F1 {f1:.4f}")


if __name__ == "__main__":
    main()
