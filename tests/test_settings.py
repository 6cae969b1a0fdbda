"""The registry of tuned numbers: every one named, explained and pointing at the docs that chose it, and the
figures the README quotes are the registry's."""

import re
from pathlib import Path

import pytest

from qa import settings
from qa.settings import (
    COMPILED_FROM,
    DEFAULT_TOP_K,
    MAX_HISTORY,
    MAX_PASSAGE_CHARS,
    MAX_QUESTION_CHARS,
    MAX_TOP_K,
    MIN_SHARE,
    NAMED_DEPTH,
    NAMED_SCORE,
    OWN_CONTENT,
    SETTINGS,
    TOO_LITTLE,
)

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
WORDS = {"twice": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10}


def test_every_setting_is_the_module_constant_of_its_name():
    assert SETTINGS and all(
        getattr(settings, name) == setting.value and setting.name == name for name, setting in SETTINGS.items()
    )


@pytest.mark.parametrize("name", list(SETTINGS))
def test_every_setting_says_what_it_does_and_points_at_the_docs_that_chose_it(name):
    setting = SETTINGS[name]
    assert len(setting.help) > 10 and "\n" not in setting.help
    path, section = setting.docs.split(" § ")
    headings = [
        line.lstrip("#").strip() for line in (ROOT / path).read_text("utf-8").splitlines() if line.startswith("#")
    ]
    assert any(heading.startswith(section) for heading in headings), setting.docs


def quoted(pattern: str) -> str:
    """What the README says where the pattern's group stands (words may wrap onto the next line)."""
    match = re.search(pattern.replace(" ", r"\s+"), README.read_text("utf-8"))
    assert match, f"the README no longer says {pattern!r}"
    return match.group(1)


def number(text: str) -> float:
    return WORDS[text] if text in WORDS else float(text.replace(",", ""))


@pytest.mark.parametrize(
    "pattern,value",
    [
        (r"windows of whole sentences \(<= ([\d,]+) chars\)", MAX_PASSAGE_CHARS),
        (r"an idf-weighted share of ([\d.]+)", MIN_SHARE),
        (r"`top_k` optional, 1–(\d+),", MAX_TOP_K),
        (r"`top_k` optional, 1–\d+, default (\d+)\)", DEFAULT_TOP_K),
        (r"`question_too_long` over ([\d,]+) characters", MAX_QUESTION_CHARS),
        (r"On a corpus of (\d+)k postings or more", COMPILED_FROM / 1024),
        (r"Of the best (\w+) passages, the first whose document holds the names", NAMED_DEPTH),
        (r"when the best scores more than (\w+) as much", 1 / NAMED_SCORE),
        (r"a list of at most (\d+) strings", MAX_HISTORY),
        (r"when it has fewer than (\d+) content syllables", TOO_LITTLE),
        (r"when it is short \(under (\d+) content syllables\)", OWN_CONTENT),
    ],
)
def test_the_readme_quotes_the_registry(pattern, value):
    assert number(quoted(pattern)) == value
