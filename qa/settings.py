"""Every tuned number in one place: its value, what it does, and the docs row that chose it.

The modules import these as the defaults of their arguments (Postings.build(k1=K1, b=B), credible(min_share=...)),
so a test or an experiment passes another value instead of patching a module. How each was chosen, and what was
tried instead, is in the docs each one points to; read that before changing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

Number = TypeVar("Number", int, float)


@dataclass(frozen=True)
class Setting:
    name: str
    value: int | float
    help: str
    docs: str  # "docs/quality.md § <heading>": the section whose rows chose the value


SETTINGS: dict[str, Setting] = {}


def _setting(name: str, value: Number, help: str, docs: str) -> Number:
    """The value, registered under its name."""
    SETTINGS[name] = Setting(name, value, help, docs)
    return value


_PASSAGES = "docs/quality.md § Baseline and passage size"
_BM25 = "docs/quality.md § Weights and BM25 parameters"
_FOUND = "docs/quality.md § Where the found settings came from"
_SPEED = "docs/speed.md § Where the speed settings came from"
_API = "README.md § Web: chat page and JSON API"
_SERVING = "README.md § A living collection"
_KEYWORDS = "docs/quality.md § Keyword queries and names in questions"

# Passages (corpus)
MAX_PASSAGE_CHARS = _setting(
    "MAX_PASSAGE_CHARS",
    1500,
    "longest passage in characters: a longer paragraph is cut between sentences into windows of at most this",
    _PASSAGES,
)

# Ranking (bm25)
K1 = _setting("K1", 1.5, "BM25 term frequency saturation (rank-bm25's default)", _BM25)
B = _setting("B", 0.75, "BM25 length normalisation (rank-bm25's default)", _BM25)
COMPILED_FROM = _setting(
    "COMPILED_FROM",
    1 << 17,
    "postings from which a server ranks with the compiled MaxScore (loading it takes about a second and 200 MiB)",
    _SPEED,
)
REMEMBERED_TERM_KEYS = _setting(
    "REMEMBERED_TERM_KEYS", 1 << 16, "keys of the terms questions asked that a process keeps (about 12 MiB)", _SPEED
)

# MaxScore (maxscore; Turtle & Flood 1995)
COMMON_SHARE = _setting(
    "COMMON_SHARE", 64, "a term in more than 1/COMMON_SHARE of the passages starts in the non-essential list", _SPEED
)
FIRST_CANDIDATES = _setting(
    "FIRST_CANDIDATES",
    8,
    "passages with the highest partial scores scored in full to set the first threshold (k of them at least)",
    _SPEED,
)
NON_ESSENTIAL_SHARE = _setting(
    "NON_ESSENTIAL_SHARE",
    0.8,
    "terms stay non-essential while their upper bounds add up to less than this share of the threshold (at most 1)",
    _SPEED,
)
SORT_COST = _setting(
    "SORT_COST", 16, "sorting the candidates costs about as much as scanning this many running totals, each", _SPEED
)

# Building the index (index)
PARALLEL_FROM = _setting("PARALLEL_FROM", 2000, "passages from which a build analyses in worker processes", _SPEED)
MAX_SEGMENTS = _setting(
    "MAX_SEGMENTS", 8, "segments a collection keeps before qa index add merges all but the largest into one", _SPEED
)
ANALYSIS_BATCH = _setting("ANALYSIS_BATCH", 128, "passages a worker process analyses per task", _SPEED)

# Found or not (found): what the best passage must hold of the question
PAIR_WEIGHT = _setting(
    "PAIR_WEIGHT",
    2.0,
    "weight of a pair of the question's syllables in the share, times the idf it adds to its rarer syllable",
    _FOUND,
)
UNSEEN_SYLLABLE = _setting(
    "UNSEEN_SYLLABLE", 0.7, "weight of a syllable no passage has, as a part of the highest idf", _FOUND
)
UNSEEN_PAIR = _setting("UNSEEN_PAIR", 0.6, "weight of a pair no passage has, as a part of the highest idf", _FOUND)
MIN_SHARE = _setting(
    "MIN_SHARE", 0.14, "idf-weighted share of the question the best passage must hold to be found", _FOUND
)
UNSEEN_PAIRS_RAISE = _setting(
    "UNSEEN_PAIRS_RAISE",
    0.1,
    "added to MIN_SHARE times the share of the question's pairs that no passage has side by side",
    _FOUND,
)
NAMED_DEPTH = _setting(
    "NAMED_DEPTH",
    5,
    "the first of this many best passages whose document holds the question's names goes first, and is the one judged",
    _FOUND,
)
NAMED_SCORE = _setting(
    "NAMED_SCORE",
    0.5,
    "a passage with the names goes second, after the best, when it scores under this share of the best",
    _FOUND,
)
COMMON_NAME = _setting(
    "COMMON_NAME",
    0.2,
    "a lone capitalised syllable in this share of the passages or more is a common word, no name",
    _FOUND,
)
TOPIC_NAME = _setting(
    "TOPIC_NAME",
    1 / 3,
    "a name in more than this share of its document's passages is what the document is about: a passage need not "
    "repeat it to come first",
    _KEYWORDS,
)
FUZZY_NAME_FROM = _setting(
    "FUZZY_NAME_FROM", 5, "letters from which a name syllable no passage has may be one letter off", _FOUND
)

# Serving (live)
CHECK_SECONDS = _setting(
    "CHECK_SECONDS",
    1.0,
    "how often, at most, a server worker looks for a changed collection between requests",
    _SERVING,
)

# Keyword queries (text, found): short queries typed as keywords, not as questions
KEYWORD_SYLLABLES = _setting(
    "KEYWORD_SYLLABLES",
    8,
    "a text of at most this many syllables with no question phrase "
    "and no question mark is a keyword query: found only in a passage that holds all of it",
    _KEYWORDS,
)

# Limits of a question (search, server, cli)
MAX_QUESTION_CHARS = _setting("MAX_QUESTION_CHARS", 1000, "longest question in characters", _API)
MAX_TOP_K = _setting("MAX_TOP_K", 20, "most answers a question may ask for", _API)
DEFAULT_TOP_K = _setting("DEFAULT_TOP_K", 3, "answers given when a question does not say how many", _API)
MAX_HISTORY = _setting("MAX_HISTORY", 5, "most earlier questions a follow-up may send as its history", _API)

# Follow-ups (followup): a question that leans on the earlier ones is asked with what they asked about
_FOLLOWUPS = "docs/quality.md § Follow-ups"
OWN_CONTENT = _setting(
    "OWN_CONTENT",
    6,
    "a question with this many content syllables or more names what it asks "
    "about: a pronoun in it is its own, and it is asked alone",
    _FOLLOWUPS,
)
TOO_LITTLE = _setting(
    "TOO_LITTLE",
    2,
    "a question with fewer content syllables than this says too little to be "
    'asked alone ("Ở đâu?"): it is asked with the last question',
    _FOLLOWUPS,
)
