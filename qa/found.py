"""Found or not: whether the best passage credibly answers, judged from what the engine already computed."""
from __future__ import annotations

from typing import Sequence

# A name syllable this long that is one letter off ("Ghandi", "Seaman", "Bronco") is still the name: people
# misspell foreign names. Shorter syllables one letter off are mostly other Vietnamese syllables ("nang": "nan",
# "dang", "nanh"). Chosen on XQuAD-vi and the tune splits (docs/quality.md).
FUZZY_NAME_FROM = 5


def near(a: str, b: str) -> bool:
    """At most one letter dropped, added, changed or two neighbours swapped: the typos people make in names."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        differ = [i for i in range(len(a)) if a[i] != b[i]]
        return len(differ) == 1 or (len(differ) == 2 and differ[1] == differ[0] + 1
                                    and a[differ[0]] == b[differ[1]] and a[differ[1]] == b[differ[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((i for i in range(len(short)) if short[i] != long[i]), len(short))
    return short[i:] == long[i + 1:]


def name_nearly_in(name: Sequence[str], keys: Sequence[str]) -> bool:
    """The name (folded syllables) in a run of folded syllables, a long syllable allowed one letter off.

    A name of one syllable must be there; of more, one pair of its syllables side by side, as in the exact check.
    """
    def same(wanted: str, seen: str) -> bool:
        return wanted == seen or (len(wanted) >= FUZZY_NAME_FROM and near(wanted, seen))

    if len(name) == 1:
        return any(same(name[0], key) for key in set(keys))
    pairs = set(zip(keys, keys[1:]))
    return any(same(a, x) and same(b, y) for a, b in zip(name, name[1:]) for x, y in pairs)
