"""Vietnamese text: normalise, fold and analyse into index terms (one path for passages and questions)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from . import segment, terms
from .settings import KEYWORD_SYLLABLES

# Bump when analysis changes: saved indexes built by another version are rebuilt, not served.
ANALYSER_VERSION = "6"

# Runs of spaces that are not already one plain space (rewriting every space costs three times as much).
_SPACES = re.compile(
    r"[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000][ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]*"
    r"| [ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+"
)
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền, sắc, ngã, hỏi, nặng
# oà/oè/uỳ closing a syllable: old and new styles put the tone mark on different vowels. The pattern finds
# candidates (one character class first: ten times faster than lookbehinds); _move_tone keeps only those.
_TONE_PLACEMENT = re.compile(r"[oOuU][àáảãạÀÁẢÃẠèéẻẽẹÈÉẺẼẸỳýỷỹỵỲÝỶỸỴ](?!\w)")
_TONED_A_E = frozenset("àáảãạÀÁẢÃẠèéẻẽẹÈÉẺẼẸ")
SYLLABLE = re.compile(r"[^\W_]+")

# Common short forms in news and administrative text, with what people type in full.
ABBREVIATIONS = {
    "ubnd": "ủy ban nhân dân",
    "hđnd": "hội đồng nhân dân",
    "tp": "thành phố",
    "tw": "trung ương",
    "đcsvn": "đảng cộng sản việt nam",
    "đcs": "đảng cộng sản",
    "mttq": "mặt trận tổ quốc",
    "ubmttq": "ủy ban mặt trận tổ quốc",
    "bch": "ban chấp hành",
    "btv": "ban thường vụ",
    "đbqh": "đại biểu quốc hội",
    "qh": "quốc hội",
    "hcm": "hồ chí minh",
    "tphcm": "thành phố hồ chí minh",
    "ttg": "thủ tướng",
    "bhxh": "bảo hiểm xã hội",
    "bhyt": "bảo hiểm y tế",
    "tand": "tòa án nhân dân",
    "vksnd": "viện kiểm sát nhân dân",
    "cand": "công an nhân dân",
    "qđnd": "quân đội nhân dân",
    "csgt": "cảnh sát giao thông",
    "thpt": "trung học phổ thông",
    "thcs": "trung học cơ sở",
    "htx": "hợp tác xã",
    "kcn": "khu công nghiệp",
    "atgt": "an toàn giao thông",
    "pccc": "phòng cháy chữa cháy",
    "đbscl": "đồng bằng sông cửu long",
    "nxb": "nhà xuất bản",
    "vn": "việt nam",
    "lđlđ": "liên đoàn lao động",
    "gd": "giáo dục",
    "đt": "đào tạo",
    "ktxh": "kinh tế xã hội",
}

# Symbols that are words when read aloud, as people type them in full ("bao nhiêu phần trăm" for "90%").
SYMBOLS = {"%": "phần trăm"}

# Question phrases that carry no content: they say what kind of answer is wanted, not where it is.
QUESTION_PHRASES = [
    "như thế nào",
    "thế nào",
    "bao nhiêu",
    "bao giờ",
    "khi nào",
    "lúc nào",
    "ở đâu",
    "tại sao",
    "vì sao",
    "là gì",
    "là ai",
    "cái gì",
    "điều gì",
    "việc gì",
    "những gì",
    "có phải",
    "hay không",
    "phải không",
    "đúng không",
    "được không",
    "có không",
    "ai",
    "gì",
    "nào",
    "đâu",
    "mấy",
    "không",
    "chưa",
    "vậy",
    "nhỉ",
    "hả",
    "ạ",
    "à",
]

# Function words: matched but never highlighted, and weightless when judging whether a passage answers.
STOPWORDS = frozenset(
    "là của và các những có được trong cho với đã này đó một thì mà ở tại theo về từ đến khi cũng như "
    "để do bởi nên vào ra lên xuống rằng thế nhưng hoặc hay sẽ đang vẫn rất nhiều ít cùng trên dưới sau "
    "trước giữa".split()
)


def normalise(text: str) -> str:
    """The text in one spelling: NFC, plain spaces and one tone placement, of the same length where possible."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROLS.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _SPACES.sub(" ", text)
    return _TONE_PLACEMENT.sub(_move_tone, text)


def _move_tone(match: re.Match) -> str:
    """The oà/oè/uỳ matched with the tone on its first vowel (hoà -> hòa, thuỷ -> thủy), as underthesea writes it."""
    # Not after q (quà, quý): there u belongs to the consonant.
    first, second = match.group()
    after_q = match.start() > 0 and match.string[match.start() - 1] in "qQ"
    if after_q or (first in "oO") != (second in _TONED_A_E):
        return match.group()
    base, *marks = unicodedata.normalize("NFD", second)
    return unicodedata.normalize("NFC", first + "".join(marks)) + base


# The characters a fold table keeps once met: Latin with its marks, Greek, Cyrillic, punctuation and the other
# alphabets' first blocks. Others (CJK, emoji) are folded each time they are met, so that no run of odd text
# (a server answers anyone) grows a table without bound.
_KEPT_BELOW = 0x3000


class _Unmarked(dict):
    """Code point -> its character without diacritics (đ -> d; decomposed, the combining marks left out), for
    str.translate, filled as characters are met."""

    def __missing__(self, code: int) -> str:
        char = {"đ": "d", "Đ": "D"}.get(chr(code), chr(code))
        folded = "".join(ch for ch in unicodedata.normalize("NFD", char) if not unicodedata.combining(ch))
        if code < _KEPT_BELOW:
            self[code] = folded
        return folded


_UNMARKED = _Unmarked()


def fold(text: str) -> str:
    """The text without diacritics (đ -> d), of the same length."""
    # So that a question typed without marks meets the text. Decomposing, dropping the marks and composing again,
    # character by character through a table: a syllable's fold was a tenth of a question's analysis.
    return unicodedata.normalize("NFC", text.translate(_UNMARKED))


# A question typed without marks gives "hdnd", "dbqh": the same short forms, folded.
_QUESTION_SHORT_FORMS = {fold(short): full for short, full in ABBREVIATIONS.items()} | ABBREVIATIONS


def has_marks(text: str) -> bool:
    """Whether the text carries Vietnamese diacritics (the writer typed them)."""
    return fold(text) != text


# What a Vietnamese syllable can be, folded: an initial consonant, one to three vowels, a final consonant. "Tesla",
# "Warsaw", "Lindisfarne", "IPCC" cannot be one: a word borrowed as it is spelt abroad, mostly a name. A word with
# Vietnamese marks is Vietnamese even when it cannot be ("Nhữg": a typo).
_VIETNAMESE_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}"
    r"(?:ch|nh|ng|[cmnpt])?"
)


def proper_names(text: str) -> list[list[str]]:
    """The runs of capitalised syllables of a text, lowercased ("Đà Nẵng", "Nguyễn Văn Kiên"), less a lone first
    word that may be Vietnamese."""
    # A first word is capitalised anyway: alone, it is no name unless it cannot be a Vietnamese word ("Lindisfarne
    # được phân loại…": not may_be_vietnamese).
    names: list[list[str]] = []
    if not any(ch.islower() for ch in text):  # SHOUTED TEXT: capitals say nothing
        return names
    last_end = None  # where the previous capitalised syllable ended, if the last syllable was one
    for match in SYLLABLE.finditer(text):
        word = match.group()
        if not word[0].isupper():
            last_end = None
            continue
        if last_end is not None and not text[last_end : match.start()].strip():
            names[-1].append(word.lower())
        else:
            names.append([word.lower()])
        last_end = match.end()
    first = SYLLABLE.search(text)
    if names and len(names[0]) == 1 and first and first.group()[0].isupper() and may_be_vietnamese(names[0][0]):
        names = names[1:]
    return names


def may_be_vietnamese(word: str) -> bool:
    """Whether a lowercased word may be Vietnamese: spelt like a Vietnamese syllable, or marked as one."""
    return has_marks(word) or bool(_VIETNAMESE_SYLLABLE.fullmatch(word))


class _FoldedLower(dict):
    """Code point -> its character lowercased and folded, or a space where it is no part of a syllable (what
    SYLLABLE leaves out); for str.translate, filled as characters are met. One character for one: offsets stay."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        folded = fold(char.lower())
        kept = (folded if len(folded) == 1 and folded.isalnum() else char) if char.isalnum() else " "
        if code < _KEPT_BELOW:
            self[code] = kept
        return kept


_FOLDED_LOWER = _FoldedLower()


def folded_text(text: str) -> str:
    """The text lowercased and folded, a space for every character that is no part of a syllable (offsets kept)."""
    # What answers are matched in (made once per passage when the index is built).
    return text.translate(_FOLDED_LOWER)


def find_word(folded: str, word: str, start: int) -> int:
    """Where a syllable next stands whole in a folded_text from start on, -1 if nowhere."""
    at, size = folded.find(word, start), len(word)
    while at >= 0 and not (folded[at - 1 : at] in " \n" and folded[at + size : at + size + 1] in " \n"):  # "" in: ends
        at = folded.find(word, at + 1)
    return at


def _clauses(
    text: str, short_forms: dict[str, str] = ABBREVIATIONS, segmented: bool = True
) -> tuple[list[list[str]], list[tuple[str, ...]]]:
    """The runs of syllables of a text between punctuation, lowercased with the short forms written out in full, and
    its words of more than one syllable (not segmented: only the tokens of several, such as "TP.HCM"; the runs are the
    same, but where the tagger joins a mark to a word: "Sky+ HD")."""
    # underthesea segments cased text better: lowercase after. "UBND" and "Ủy ban nhân dân" give the same terms.
    clauses: list[list[str]] = [[]]
    words: list[tuple[str, ...]] = []
    if not any(ch.islower() for ch in text):  # SHOUTED TEXT segments badly: give the tagger ordinary case
        text = text.lower()
    for token in segment.words(text, segmented):
        parts = SYMBOLS[token].split() if token in SYMBOLS else [p.lower() for p in SYLLABLE.findall(token)]
        if not parts:
            clauses.append([])
            continue
        if len(parts) > 1:
            words.append(tuple(parts))
        for part in parts:
            clauses[-1].extend(short_forms.get(part, part).split())
    return [c for c in clauses if c], words


def _index_terms(clauses: list[list[str]], words: list[tuple[str, ...]], marked: bool) -> list[str]:
    """The index terms of clauses and words: words and syllables with marks (when marked), folded syllables and
    pairs."""
    # The folded terms are what a question typed without marks meets.
    made: list[str] = []
    if marked:
        made += [terms.word(w) for w in words]
        for clause in clauses:
            made += [terms.syllable(s) for s in clause]
    for clause in clauses:
        folded = [fold(s) for s in clause]
        made += [terms.folded(s) for s in folded]
        made += [terms.pair(a, b) for a, b in zip(folded, folded[1:])]
    return made


def _count_terms(syllables: list[str]) -> list[str]:
    """The count terms of what a number before these syllables counts: their first one and two, folded."""
    # "11 đề án" is a count of "đề" and of "đề án", the answer to "bao nhiêu đề án".
    folded = [fold(s) for s in syllables[:2]]
    return [terms.count(folded[:n]) for n in range(1, len(folded) + 1)]


def analyse(text: str) -> list[str]:
    """The terms of a passage: every form a question may meet it in, and what its numbers count."""
    clauses, words = _clauses(normalise(text))
    counts = [
        t for clause in clauses for i, s in enumerate(clause) if s.isdigit() for t in _count_terms(clause[i + 1 :])
    ]
    return _index_terms(clauses, words, marked=True) + counts


def _phrases(forms: set[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The phrases, longest first (matched before the shorter ones they hold)."""
    return sorted(forms, key=len, reverse=True)


# Matched with marks when the question has them ("đâu" is not "đầu"). Folded, a lone syllable is too
# ambiguous to drop ("ha" is "hả" and "Hà"), but for these.
_UNAMBIGUOUS_FOLDED = {"ai", "gì", "nào", "không"}
_KHONG = {True: ("không",), False: ("khong",)}
_QUESTION_PHRASES = {
    True: _phrases({tuple(p.split()) for p in QUESTION_PHRASES}),
    False: _phrases({tuple(fold(p).split()) for p in QUESTION_PHRASES if " " in p or p in _UNAMBIGUOUS_FOLDED}),
}
# The same by their first syllable: a clause's syllable is tried against the few phrases it can open.
_OPENED_BY = {
    marked: {first: [p for p in phrases if p[0] == first] for first, *_ in phrases}
    for marked, phrases in _QUESTION_PHRASES.items()
}


def _drop_question_phrases(clause: list[str], marked: bool, inner_khong: bool = True) -> list[list[str]]:
    """The pieces of a clause between its question phrases (inner_khong: "không" before the clause's end is one)."""
    forms = clause if marked else [fold(s) for s in clause]
    pieces: list[list[str]] = [[]]
    i = 0
    while i < len(clause):
        phrase = next((p for p in _OPENED_BY[marked].get(forms[i], ()) if tuple(forms[i : i + len(p)]) == p), None)
        if phrase and (inner_khong or phrase != _KHONG[marked] or i + 1 == len(clause)):
            pieces.append([])
            i += len(phrase)
        else:
            pieces[-1].append(clause[i])
            i += 1
    return [p for p in pieces if p]


# What asks for a count of what follows it: "bao nhiêu đề án", "mấy dự án", "số lượng / tổng số đảng viên", and "số"
# opening a clause ("số đảng viên mới được kết nạp"; elsewhere "số" is mostly a label or part of a word: "Bão số 3",
# "một số", "dân số").
_HOW_MANY = {
    True: [("bao", "nhiêu"), ("mấy",), ("số", "lượng"), ("tổng", "số")],
    False: [("bao", "nhieu"), ("may",), ("so", "luong"), ("tong", "so")],
}
_NUMBER_OF = {True: "số", False: "so"}


def _asked_count_terms(clauses: list[list[str]], marked: bool) -> list[str]:
    """The count terms a question asks for: "bao nhiêu đề án" asks for those a passage's "11 đề án" gives."""
    made = []
    for clause in clauses:
        forms = clause if marked else [fold(s) for s in clause]
        for i in range(len(forms)):
            phrase = next(
                (p for p in _HOW_MANY[marked] if tuple(forms[i : i + len(p)]) == p),
                (_NUMBER_OF[marked],) if i == 0 and forms[0] == _NUMBER_OF[marked] else None,
            )
            if phrase:
                made += _count_terms(clause[i + len(phrase) :])
    return made


@dataclass(frozen=True)
class QuestionTerms:
    """A question, analysed: BM25 terms with counts, folded content syllables, the names it mentions, and its first
    syllable (lowercased: capitalised whether or not it is a name)."""

    terms: tuple[tuple[str, int], ...]
    keywords: tuple[str, ...]
    names: tuple[tuple[str, ...], ...]
    opening: str
    marked: dict[str, frozenset[str]]  # folded content syllable -> how the question writes it, when always with marks
    # Which terms are made of which (a pair of its folded syllables, a word of its syllables), as positions in terms:
    # (compounds, components), for Postings.ranked.
    compounds: tuple[tuple[int, ...], tuple[int, ...]]
    # A keyword query ("giá vàng", "cải cách hành chính"), not a question: the folded syllables of each of its clauses.
    # Empty for a question (a question phrase, a question mark, or more than KEYWORD_SYLLABLES syllables).
    query: tuple[tuple[str, ...], ...]
    # Which folded syllables the question writes with marks, and where it writes them so, as positions in terms:
    # (folded, as written), for Postings.ranked.
    written: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())
    # The pairs of folded syllables side by side in one of its words of several syllables, or in a keyword query
    # (where a syllable alone is no evidence: "thời tiết" is not in "tiết mục"), or anywhere in a question typed
    # without marks (whose words are not found, and whose lone "thu" is "thư" or "thứ"): what answers.make_answer
    # marks a syllable of only beside another of its word.
    joined: frozenset[tuple[str, str]] = frozenset()


@lru_cache(maxsize=4096)
def analyse_question(question: str) -> QuestionTerms:
    """A question's terms, keywords and names: the same analysis as passages get, less the words that only say it is
    a question."""
    text = normalise(question)
    marked = has_marks(text)
    # Words are asked only as written with marks: a question typed without them is not segmented.
    clauses, words = _clauses(text, _QUESTION_SHORT_FORMS, segmented=marked)
    content = [piece for clause in clauses for piece in _drop_question_phrases(clause, marked)]
    words = [w for w in words if w not in _QUESTION_PHRASES[True]]
    counted = Counter(_index_terms(content, words, marked) + _asked_count_terms(clauses, marked))
    position = {t: i for i, t in enumerate(counted)}
    compounds = _compounds(position)
    keywords = dict.fromkeys(fold(s) for clause in content for s in clause)
    names = tuple(tuple(name) for name in proper_names(text))
    first = SYLLABLE.search(text)
    forms = _marked_forms([s for clause in content for s in clause])
    query = keyword_query(text, clauses, marked)
    # Its words are known when it is typed with marks; with no content syllable written with marks (typed without,
    # or a name), any two side by side are joined; with marks only where its short forms are written out in full
    # ("TP.HCM" typed without), none.
    pieces = (words if marked else []) if forms else content
    joined = [tuple(map(fold, piece)) for piece in pieces] + list(query)
    return QuestionTerms(
        tuple(counted.items()),
        tuple(keywords),
        names,
        first.group().lower() if first else "",
        forms,
        compounds,
        query,
        _written(position, forms),
        frozenset(pair for syllables in joined for pair in zip(syllables, syllables[1:])),
    )


def keyword_query(
    text: str, clauses: list[list[str]], marked: bool, most: int = KEYWORD_SYLLABLES
) -> tuple[tuple[str, ...], ...]:
    """The folded syllables of each clause of a text typed as a keyword query, or () when it is a question."""
    # A question says so (a question phrase, a question mark) or runs longer than keywords do. "không" asks only at
    # the end ("... được không"); before it, it is a word ("không khí", "không dây").
    if (
        "?" in text
        or sum(map(len, clauses)) > most
        or any(_drop_question_phrases(clause, marked, inner_khong=False) != [clause] for clause in clauses)
    ):
        return ()
    return tuple(tuple(fold(s) for s in clause) for clause in clauses)


def _compounds(position: dict[str, int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(compounds, components): the positions of each pair and word among the terms (position: term -> its
    position), beside those of its syllables that are there too, one entry per syllable."""
    # A passage with the pair "thanh pho" has its folded syllables "thanh" and "pho" (with the word "thành_phố", its
    # syllables "thành" and "phố"), so the pair is asked only for what it adds to them.
    at = position.get
    compound: list[int] = []
    component: list[int] = []
    for t, i in position.items():
        for part in terms.parts(t):
            j = at(part)
            if j is not None:
                compound.append(i)
                component.append(j)
    return tuple(compound), tuple(component)


def _written(position: dict[str, int], forms: dict[str, frozenset[str]]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(folded, as written): the positions among the terms (position: term -> its position) of each folded syllable
    the question writes one way with marks, beside that of the syllable as written."""
    # "diễn" asked of an article that never writes it: its folded form "dien" meets only other words ("Diện mạo").
    # A syllable written two ways ("bị" and "bí", both "bi") is left as it is.
    folded: list[int] = []
    as_written: list[int] = []
    for key, written in forms.items():
        lowered = {w.lower() for w in written}
        if len(lowered) == 1:
            f, w = position.get(terms.folded(key)), position.get(terms.syllable(lowered.pop()))
            if f is not None and w is not None:
                folded.append(f)
                as_written.append(w)
    return tuple(folded), tuple(as_written)


def _marked_forms(syllables: list[str]) -> dict[str, frozenset[str]]:
    """Folded syllable -> its forms as written, for the syllables the question always writes with marks."""
    # "bị" asks for "bị", not for "bí" or "bỉ". One written without ("Maiziere" for "Maizière", or marks left off)
    # asks for any.
    forms: dict[str, set[str]] = {}
    for syllable in syllables:
        forms.setdefault(fold(syllable), set()).add(syllable)
    return {
        key: frozenset(written | {w.capitalize() for w in written})
        for key, written in forms.items()
        if key not in written
    }
