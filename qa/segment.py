"""Vietnamese word segmentation: underthesea's word_tokenize, less the work it does twice.

underthesea's tokenizer normalises the whole text, then every token again, and reads each match's named groups to
find the one that matched. Each alternative of its pattern is one named group, so the match itself is the token;
and a token of a normalised text is normalised. Its CRF tagger then joins tokens into words. Both are used as
underthesea ships them; tests/test_segment.py holds tokens() and words() to underthesea's own output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Callable


@dataclass(frozen=True)
class _Underthesea:
    """What segmentation uses of underthesea: its token pattern, character normalisation, token spellings and
    word tagger."""

    pattern: Any
    normalise: Callable[[str], str]
    spellings: dict[str, str]
    tagger: Any


@cache
def _underthesea() -> _Underthesea:
    """underthesea's pieces, its model loaded."""
    # Imported when first needed, not at the top: underthesea takes half a second to import, which commands that
    # analyse nothing (qa index remove, list, info) need not pay.
    import underthesea.pipeline.word_tokenize as pipeline
    from underthesea.pipeline.text_normalize.character_normalize import normalize_characters_in_text
    from underthesea.pipeline.text_normalize.text_normalizer import token_map

    if pipeline.word_tokenize_model is None:
        pipeline.word_tokenize("khởi động")  # its first call loads the model where underthesea keeps it
    return _Underthesea(
        pipeline.regex_tokenize.patterns, normalize_characters_in_text, token_map, pipeline.word_tokenize_model
    )


def tokens(text: str) -> list[str]:
    """The tokens of a text (syllables, numbers, punctuation, links...), as underthesea's tokenize gives them."""
    parts = _underthesea()
    spelled = parts.spellings.get  # token_normalize looks up tokens of up to 6 characters: every key is that short
    return [spelled(t, t) for t in map(re.Match.group, parts.pattern.finditer(parts.normalise(text)))]


def words(text: str, segmented: bool = True) -> list[str]:
    """The words of a text, their syllables joined by spaces, as underthesea's word_tokenize gives them; segmented
    False: its tokens alone, each a word of its own (the tagger, two thirds of the time, is not run)."""
    found = tokens(text)
    if not segmented or not found:
        return found
    tags = _underthesea().tagger.predict([[token] for token in found])
    joined: list[str] = []
    for tag, token in zip(tags, found):
        if tag == "I-W" and joined:
            joined[-1] += " " + token
        else:
            joined.append(token)
    return joined
