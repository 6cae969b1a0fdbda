"""Benchmark corpora: Vietnamese passages of any size from real sentences, with a vocabulary that keeps growing.

Real sentences (the shipped article and the XQuAD-vi contexts in ../shared) are sampled into passages,
and a share of their syllables is replaced by words drawn from a Zipf distribution over a generated
lexicon: syllables made of the onsets, rhymes and tones found in the real text, one to three to a word.
Rare words keep appearing as the corpus grows, as they do in news, so the vocabulary is not capped by
the 1,300 source sentences. Everything follows from the seed; a smaller corpus is the start of a larger one.

    python bench/corpora.py --sizes 1k 10k 100k      # writes bench/data/<size>/corpus.jsonl, queries.json
"""

from __future__ import annotations

import argparse
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from qa.corpus import sentence_spans
from qa.text import STOPWORDS, fold, normalise

HERE = Path(__file__).resolve().parent
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
SEED = 20240501
RECIPE = 2  # bump when the same seed would give other text
ZIPF_EXPONENT = 1.25  # ~180k distinct generated words in 2.7M draws (100k passages), ~28k in 10k passages
REPLACED_SHARE = 0.3  # of the syllables of a sampled sentence
PASSAGES_PER_DOCUMENT = (3, 12)
SENTENCES_PER_PASSAGE = (1, 4)
MAX_PASSAGE_CHARS = 1400  # under qa.corpus.MAX_PASSAGE_CHARS, so every line stays exactly one passage
QUERY_SYLLABLES = (3, 8)
QUERY_FRAMES = ("{} là gì?", "{} ở đâu?", "{} khi nào?", "Ai {}?", "{} bao nhiêu?", "{} như thế nào?", "{}?")
FOLDED_QUERIES = 0.2  # typed without diacritics

ONSETS = sorted("b c ch d đ g gh gi h k kh l m n ng ngh nh p ph qu r s t th tr v x".split(), key=len, reverse=True)
TONES = ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")  # ngang, huyền, sắc, ngã, hỏi, nặng
_VOWELS = "aăâeêioôơuưy"
_RHYME = re.compile(f"^[{_VOWELS}]{{1,3}}(?:ch|nh|ng|c|m|n|p|t)?$")
_CHECKED = ("c", "ch", "p", "t")  # rhymes that end in a stop take only sắc or nặng
_TOKEN = re.compile(r"[^\W\d_]+")


def source_texts(shared: Path) -> list[str]:
    """The real text: the shipped article and the XQuAD-vi contexts."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((shared / "corpus").glob("*.txt"))]
    squad = json.loads((shared / "data" / "xquad-vi" / "xquad.vi.json").read_text(encoding="utf-8"))
    texts += [p["context"] for article in squad["data"] for p in article["paragraphs"]]
    return texts


def sentences(texts: Sequence[str]) -> list[str]:
    """Sentences of the real text, one line each, in a fixed order."""
    found = []
    for text in texts:
        for line in normalise(text).split("\n"):
            found += [" ".join(line[s:e].split()) for s, e in sentence_spans(line)]
    return [s for s in found if _TOKEN.search(s) and len(s) <= MAX_PASSAGE_CHARS // SENTENCES_PER_PASSAGE[1]]


def _split(syllable: str) -> tuple[str, str, str] | None:
    """(onset, rhyme, tone) of a Vietnamese syllable, or None for a foreign word or a number."""
    letters = unicodedata.normalize("NFD", syllable)
    tone = next((t for t in TONES[1:] if t in letters), "")
    plain = unicodedata.normalize("NFC", letters.replace(tone, "")) if tone else syllable
    onset = next((o for o in ONSETS if plain.startswith(o) and _RHYME.match(plain[len(o) :])), "")
    rhyme = plain[len(onset) :]
    return (onset, rhyme, tone) if _RHYME.match(rhyme) else None


def _with_tone(rhyme: str, tone: str) -> str:
    """Tone on the main vowel (old style, as qa.text.normalise writes it): hòa, toán, thuyền, người."""
    if not tone:
        return rhyme
    vowels = [i for i, ch in enumerate(rhyme) if ch in _VOWELS]
    marked = [i for i in vowels if rhyme[i] in "ăâêôơư"]
    ends_open = vowels[-1] == len(rhyme) - 1
    at = marked[-1] if marked else vowels[-2] if ends_open and len(vowels) > 1 else vowels[-1]
    return unicodedata.normalize("NFC", rhyme[: at + 1] + tone + rhyme[at + 1 :])


def _spelling_allows(onset: str, rhyme: str) -> bool:
    """Vietnamese spelling: k, gh, ngh before i, e, ê (k before y too), c, g, ng elsewhere; a rhyme in y- stands
    alone (yên, yêu); no gi+i or qu+u."""
    front = rhyme[0] in "ieê"
    if rhyme[0] == "y" and rhyme != "y":
        return not onset
    if onset in ("k", "c"):
        return (onset == "k") == (front or rhyme == "y")
    if onset in ("gh", "ngh", "g", "ng"):
        return onset.endswith("h") == front and rhyme != "y"
    return not ((onset == "gi" and rhyme[0] == "i") or (onset == "qu" and rhyme[0] in "uư"))


@dataclass
class Lexicon:
    """Generated words by Zipf rank: rank r is always the same word for the same source text and seed."""

    syllables: list[str]

    @classmethod
    def from_sentences(cls, pool: Sequence[str], rng: np.random.Generator) -> "Lexicon":
        parts = Counter(_split(t.lower()) for s in pool for t in _TOKEN.findall(s))
        onsets = sorted({p[0] for p in parts if p})
        rhymes = Counter(p[1] for p in parts if p)  # seen twice at least: not a foreign word's
        rhymes = sorted(r for r, n in rhymes.items() if n >= 2 or len(rhymes) < 20)
        found = [
            o + _with_tone(r, t)
            for o in onsets
            for r in rhymes
            if _spelling_allows(o, r)
            for t in TONES
            if not r.endswith(_CHECKED) or t in ("\u0301", "\u0323")
        ]
        return cls([found[i] for i in rng.permutation(len(found))])

    def word(self, rank: int) -> str:
        """Rank 1 is the commonest; after one-syllable words come two-syllable ones, then three."""
        n, r = len(self.syllables), rank - 1
        count = 1
        while r >= n**count:
            r -= n**count
            count += 1
        picked = []
        for _ in range(count):
            r, digit = divmod(r, n)
            picked.append(self.syllables[digit])
        return " ".join(picked)


class Generator:
    """Passages and titles from the real sentences, a share of their syllables swapped for Zipf-drawn words."""

    def __init__(self, texts: Sequence[str], seed: int = SEED):
        self.rng = np.random.default_rng(seed)
        self.pool = [re.split(r"([^\W\d_]+)", s) for s in sentences(texts)]  # separators at even places
        if not self.pool:
            raise ValueError("the source text has no sentences")
        self.lexicon = Lexicon.from_sentences(["".join(p) for p in self.pool], self.rng)
        self.words: dict[int, str] = {}

    def _sentence(self) -> str:
        pieces = list(self.pool[self.rng.integers(len(self.pool))])
        places = np.flatnonzero(self.rng.random(len(pieces) // 2) < REPLACED_SHARE) * 2 + 1
        for place, rank in zip(places, self.rng.zipf(ZIPF_EXPONENT, len(places))):
            word = self.words.get(rank) or self.words.setdefault(rank, self.lexicon.word(int(rank)))
            pieces[place] = word.capitalize() if pieces[place][0].isupper() else word
        return "".join(pieces)

    def passage(self) -> str:
        """One to four sentences ending in a full stop: exactly one passage for qa.corpus."""
        text = ""
        for _ in range(self.rng.integers(SENTENCES_PER_PASSAGE[0], SENTENCES_PER_PASSAGE[1] + 1)):
            sentence = self._sentence().rstrip(" ,;:-")
            if not sentence.endswith((".", "!", "?", "…")):
                sentence += "."
            if len(text) + len(sentence) + 1 > MAX_PASSAGE_CHARS:
                break
            text = f"{text} {sentence}".strip()
        return text if len(_TOKEN.findall(text)) >= 4 else self.passage()

    def title(self) -> str:
        tokens = _TOKEN.findall(self._sentence())
        start = self.rng.integers(max(1, len(tokens) - 4))
        return " ".join(tokens[start : start + self.rng.integers(4, 11)]).capitalize()

    def documents(self, n_passages: int) -> Iterator[dict]:
        """JSON Lines records (id, title, text: one passage a line) holding exactly n_passages passages."""
        made = 0
        while made < n_passages:
            count = min(
                int(self.rng.integers(PASSAGES_PER_DOCUMENT[0], PASSAGES_PER_DOCUMENT[1] + 1)), n_passages - made
            )
            number = made
            made += count
            title = self.title()
            yield {"id": f"d{number:07d}", "title": title, "text": "\n".join(self.passage() for _ in range(count))}


def queries(documents: Sequence[dict], n: int, seed: int = SEED) -> list[dict]:
    """Questions of 3-8 content syllables cut from random passages, a fifth typed without diacritics."""
    rng = np.random.default_rng(seed + 1)
    passages = [(d["id"], line) for d in documents for line in d["text"].split("\n")]
    asked = []
    for number in rng.choice(len(passages), size=min(n, len(passages)), replace=False):
        doc_id, text = passages[number]
        tokens = _TOKEN.findall(text)
        want = int(rng.integers(QUERY_SYLLABLES[0], QUERY_SYLLABLES[1] + 1))
        start = int(rng.integers(len(tokens)))
        run: list[str] = []
        for token in tokens[start:] + tokens[:start]:
            run.append(token)
            if sum(t.lower() not in STOPWORDS for t in run) >= want:
                break
        question = QUERY_FRAMES[rng.integers(len(QUERY_FRAMES))].format(" ".join(run))
        question = question[0].upper() + question[1:]
        if rng.random() < FOLDED_QUERIES:
            question = fold(question).lower()
        asked.append({"question": question, "passage": int(number), "document": doc_id})
    return asked


def vocabulary(documents: Sequence[dict]) -> Counter:
    """Lowercased syllables of the passages and titles: what the tests and the report count."""
    return Counter(t.lower() for d in documents for t in _TOKEN.findall(d["title"] + "\n" + d["text"]))


def write(out: Path, texts: Sequence[str], n_passages: int, seed: int = SEED, n_queries: int = 200) -> Path:
    """corpus.jsonl and queries.json for one size in out, skipped when the same recipe is already there."""
    recipe = {
        "recipe": RECIPE,
        "passages": n_passages,
        "seed": seed,
        "queries": n_queries,
        "zipf": ZIPF_EXPONENT,
        "replaced": REPLACED_SHARE,
        "sentences": len(sentences(texts)),
    }
    done = out / "recipe.json"
    if done.exists() and json.loads(done.read_text()) == recipe:
        return out
    out.mkdir(parents=True, exist_ok=True)
    done.unlink(missing_ok=True)
    documents = []
    with open(out / "corpus.jsonl", "w", encoding="utf-8") as handle:
        for document in Generator(texts, seed).documents(n_passages):
            handle.write(json.dumps(document, ensure_ascii=False) + "\n")
            documents.append(document)
    asked = queries(documents, n_queries, seed)
    (out / "queries.json").write_text(json.dumps(asked, ensure_ascii=False, indent=0), encoding="utf-8")
    done.write_text(json.dumps(recipe))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared", help="path to ../shared")
    parser.add_argument("--sizes", nargs="+", default=["1k", "10k", "100k"], choices=sorted(SIZES))
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=HERE / "data")
    args = parser.parse_args()
    texts = source_texts(args.shared)
    for size in args.sizes:
        folder = write(args.out / size, texts, SIZES[size], args.seed)
        print(f"{size}: {folder / 'corpus.jsonl'}")


if __name__ == "__main__":
    main()
