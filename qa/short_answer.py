"""The answer itself: from the best sentence of the top passage, the span a question asks for ("Hoàng Quốc Thưởng").

The question's words say what kind of answer it wants (its answer type: a person, a number, a time, a place, a
name, a thing); the sentence's spans of that kind are the candidates (capitalised runs for names, patterns for
numbers and dates), never the question's own words again, and so is its slot: Vietnamese leaves the question word
where the statement has the answer, so the words after those the question puts before it. A scorer (a logistic
regression over what each candidate looks like and where it stands against the question's words and the slot,
trained on XQuAD-vi's tune half by bench/train_short_answer.py; weights in span_weights.py) estimates each
candidate's token F1; the best one is the answer when that confidence reaches THRESHOLD, else there is none
(None), rather than a guess. A sentence that holds too little of the question is not searched. Only patterns and
string work: underthesea's taggers and chunker were tried and did not help (docs/quality.md).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, replace
from enum import Enum
from itertools import islice
from math import exp, inf, log
from operator import mul

from .found import HONORIFICS
from .span_weights import BIAS, THRESHOLD, WEIGHTS
from .text import ABBREVIATIONS, STOPWORDS, find_word, fold, folded_text, normalise, proper_names


class AnswerType(Enum):
    PERSON = "person"
    NUMBER = "number"
    TIME = "time"
    PLACE = "place"
    NAME = "name"  # "công ty nào", "tên là gì": something named, often written capitalised
    THING = "thing"  # "là gì", "cái gì": a phrase
    TITLE = "title"  # "chức vụ gì": the office a person named in the question holds


@dataclass(slots=True)
class Asked:
    """What a question asks for: its answer type, the unit a count is in ("bao nhiêu tấn": "tấn"), its syllables
    (what an answer must not merely repeat), its content syllables (what it is about, less the words that ask), and
    the syllables of its clause before and after the question word, all folded."""

    kind: AnswerType
    unit: tuple[str, ...]
    syllables: frozenset[str]
    content: frozenset[str]
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    written: frozenset[str] = frozenset()  # its syllables with their marks, lowercase, when it was typed with them
    head: frozenset[str] = frozenset()  # "X nào": X's syllables (folded), which a name may start with
    named: tuple[str, ...] = ()  # asking for an office: whose, the names it holds, lowercase ("lê văn hiệu")


# Question phrases -> answer type, tried in this order (the first that the question holds wins); written with marks,
# and matched folded when the question has none. "thế nào" (how) and "tại sao" (why) ask for no span.
_NOT_SPECIFIC = ("như thế nào", "thế nào", "ra sao", "tại sao", "vì sao", "làm sao")
_TIME_WORDS = (
    "năm",
    "ngày",
    "tháng",
    "thế kỷ",
    "thế kỉ",
    "thập niên",
    "thập kỷ",
    "thời điểm",
    "thời gian",
    "giai đoạn",
    "lúc",
    "thời kỳ",
    "mùa",
    "dịp",
)
_PLACE_WORDS = (
    "nơi",
    "chỗ",
    "địa điểm",
    "thành phố",
    "tỉnh",
    "nước",
    "quốc gia",
    "vùng",
    "khu vực",
    "châu lục",
    "lục địa",
    "sông",
    "đảo",
    "thị trấn",
    "huyện",
    "xã",
    "bang",
    "địa phương",
)
_PERSON_WORDS = ("người", "ông", "bà", "đồng chí", "vị", "nhân vật", "cầu thủ", "nghệ sĩ", "nhà văn", "tác giả")
_OFFICES = ("chức vụ", "chức danh", "cương vị", "giữ chức")  # not "chức" alone: "tổ chức nào" asks for a body
_RULES: tuple[tuple[AnswerType, tuple[str, ...]], ...] = (
    (AnswerType.TITLE, tuple(f"{office} {word}" for office in _OFFICES for word in ("gì", "nào"))),
    (AnswerType.TIME, ("khi nào", "bao giờ", "lúc nào", "năm bao nhiêu") + tuple(w + " nào" for w in _TIME_WORDS)),
    (AnswerType.NUMBER, ("bao nhiêu", "mấy")),
    (AnswerType.PLACE, ("ở đâu", "đâu") + tuple(w + " nào" for w in _PLACE_WORDS)),
    (AnswerType.PERSON, ("là ai", "ai") + tuple(w + " nào" for w in _PERSON_WORDS)),
    (AnswerType.NAME, ("tên là gì", "gọi là gì", "tên gì", "tên thành gì", "thành gì", "nào")),
    (AnswerType.THING, ("gì",)),
)
_FOLDED_STOPWORDS = frozenset(fold(w) for w in STOPWORDS)
_AMBIGUOUS_FOLDED = {"may", "dau"}  # "mấy"/"máy", "đâu"/"đầu": unmarked, they say nothing
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class _Phrases:
    """Question phrases as a pattern that finds them whole in a lowercase question, and the syllables they end with."""

    pattern: re.Pattern
    ends: frozenset[str]

    def search(self, text: str, words: frozenset[str]) -> re.Match | None:
        """The first of the phrases in text (words: its syllables, _WORD), or None."""
        # A phrase ends with one of the question's syllables: without one, the pattern is not run over the question.
        return self.pattern.search(text) if not self.ends.isdisjoint(words) else None


def _phrases(phrases: tuple[str, ...], marked: bool) -> _Phrases:
    forms = phrases if marked else tuple(fold(p) for p in phrases if fold(p) not in _AMBIGUOUS_FOLDED)
    pattern = r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(forms, key=len, reverse=True))) + r")(?!\w)"
    return _Phrases(re.compile(pattern), frozenset(form.split()[-1] for form in forms))


_PATTERNS = {
    marked: ([(kind, _phrases(p, marked)) for kind, p in _RULES], _phrases(_NOT_SPECIFIC, marked))
    for marked in (True, False)
}
_NAMING = {True: re.compile(r"(?:tên|họ của)(?!\w)"), False: re.compile(r"(?:ten|ho cua)(?!\w)")}
_OFFICE = {
    True: re.compile(rf"(?:{'|'.join(_OFFICES)})(?!\w)"),
    False: re.compile(rf"(?:{'|'.join(map(fold, _OFFICES))})(?!\w)"),
}
_HOW_MANY = {
    True: re.compile(r"(?:bao nhiêu|mấy)\s+((?:\w+\s*){1,2})"),
    False: re.compile(r"bao nhieu\s+((?:\w+\s*){1,2})"),
}


def asked_for(question: str) -> Asked | None:
    """What the question asks for, or None when it asks for no particular span (how, why, or a statement)."""
    written = normalise(question).lower()
    folded = folded_text(written)  # one character for one, punctuation as spaces: a match in one stands in the other
    marked = bool(_MARKED.search(written))  # the question was typed with marks
    text = written if marked else folded
    rules, not_specific = _PATTERNS[marked]
    words = frozenset(_WORD.findall(text))
    if not_specific.search(text, words):
        return None
    kind, asking = next(
        ((kind, found) for kind, phrases in rules if (found := phrases.search(text, words))), (None, None)
    )
    if kind is None:
        return None
    asked_from, asked_to = asking.span()
    if kind is AnswerType.THING and _NAMING[marked].match(text):  # "Tên của … là gì?", "Họ của … là gì?"
        kind = AnswerType.NAME
    if kind is AnswerType.THING and _OFFICE[marked].match(text):  # "Chức vụ của ông Kiên là gì?"
        kind = AnswerType.TITLE
    if kind is AnswerType.PERSON and folded[asked_from:].split() == ["la", "ai"]:  # "Nguyễn Thị Ngọc Bích là ai?"
        if _is_name(normalise(question)[:asked_from]):
            kind = AnswerType.TITLE  # who someone named is: the office the text gives them
    unit: tuple[str, ...] = ()
    if kind is AnswerType.NUMBER and (count := _HOW_MANY[marked].search(text)):
        unit = tuple(folded[count.start(1) : count.end(1)].split())
    syllables = frozenset(folded.split())
    content = frozenset(folded[:asked_from].split() + folded[asked_to:].split())
    # The question word is the phrase's last syllable ("gì" of "gọi là gì", "nào" of "công ty nào"): what stands
    # before it in its clause, the words of the phrase included, leads to the answer in the sentence.
    word_start = asked_from + text[asked_from:asked_to].rfind(" ") + 1
    clause_start = max((m.end() for m in _CLAUSE.finditer(written, 0, word_start)), default=0)
    rest_end = next((m.start() for m in _CLAUSE.finditer(written, asked_to)), len(written))
    before = tuple(folded[clause_start:word_start].split())
    head = before[-2:] if folded[word_start:asked_to] == "nao" else ()
    return Asked(
        kind,
        unit,
        syllables,
        content - _FOLDED_STOPWORDS,
        before,
        tuple(folded[asked_to:rest_end].split()),
        words if marked else frozenset(),
        frozenset(head),
        _named(question) if kind is AnswerType.TITLE else (),
    )


def _is_name(text: str) -> bool:
    """Whether the text is a person's name and nothing more (a word of address may open it)."""
    words = [w.lower() for w in _WORD.findall(text)]
    return _named(text) == (" ".join(words[1:] if words[:1] and words[0] in HONORIFICS else words),)


def _named(text: str) -> tuple[str, ...]:
    """The names of two syllables or more in a text, lowercase, as written, less a word of address ("Ông Lê Văn
    Hiệu": "lê văn hiệu")."""
    names = [name[1:] if name[0] in HONORIFICS else name for name in proper_names(normalise(text))]
    return tuple(" ".join(name) for name in names if len(name) > 1)


def asked_in_context(question: str, context: str) -> Asked | None:
    """What a follow-up asks for (context: the question with what the earlier ones asked, followup.in_context): what
    its own question word asks, or with none ("Còn năm 2021?") what the earlier question asked; an answer must not
    merely repeat the words of either."""
    own, whole = asked_for(question), asked_for(context)
    if own is None or whole is None:
        return whole if own is None else own
    return replace(
        own,
        syllables=own.syllables | whole.syllables,
        content=whole.content,  # the question's own words, its pronouns put for what they stand for
        written=own.written | whole.written if own.written else own.written,
        named=_named(context) if own.kind is AnswerType.TITLE else (),
    )


_CLAUSE = re.compile(r"[,;:()\[\]“”\"?!.]")
_MARKED = re.compile("[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]")


# A span of the sentence that may answer: [start, end) offsets into the passage's text.
@dataclass(slots=True)  # not frozen: made for every span of every sentence, and frozen ones cost 4 times as much
class Candidate:
    start: int
    end: int
    fits: bool = False  # it carries what the question asks in: the unit of a count ("11 điểm" for "bao nhiêu điểm")


_EDGE = "\"'“”‘’«»()[]{},.;:!?…"
# A word: from its first character that is not punctuation to its last, inside one run of non-spaces ("2,8%").
_CORE = re.compile(rf"[^\s{re.escape(_EDGE)}](?:\S*[^\s{re.escape(_EDGE)}])?")
# A word, and the first punctuation after it before the next word, if any.
_WORD_AND_CUT = re.compile(rf"({_CORE.pattern})(?:\s*([{re.escape(_EDGE)}]))?")
# Lowercase words inside a name as written abroad ("Lothar de Maizière", "Vincent van Gogh").
_NAME_PARTICLES = frozenset("de da di du del della der den des van von la le al bin ibn of y".split())
_EXPANDS_TO = {fold(short): frozenset(fold(full).split()) for short, full in ABBREVIATIONS.items()}


def _tokens(text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    """The words of text[start:end], without the punctuation around them: (start, end, whether punctuation or the
    sentence's end cuts it from the next word)."""
    # Between two words stand only spaces and punctuation (_EDGE): one mark among them cuts.
    return [(m.start(), m.end(1), m[2] is not None) for m in _WORD_AND_CUT.finditer(text, start, end)]


# A run of capitalised words: not broken by punctuation, with digits ("Super Bowl 50") and the particles of names
# as written abroad between them; it starts where a word starts.
_UPPER = re.escape("".join(c for c in map(chr, range(0x41, 0x2000)) if c.isupper()))
_NOT_EDGE = rf"[^\s{re.escape(_EDGE)}]"
_CAPITAL = rf"[{_UPPER}](?:\S*{_NOT_EDGE})?"
_SPACED = re.compile(r"\S+")
_PARTICLE = "|".join(sorted(_NAME_PARTICLES))
# Both patterns open with the capital itself and only then look behind it (no word character before it): a pattern
# that opens with a character class is scanned for it in C, one that opens by looking behind is tried at every place.
_OPENS_A_WORD = rf"[{_UPPER}](?<!{_NOT_EDGE}.)(?:\S*{_NOT_EDGE})?"
_NAME_RUN = re.compile(
    rf"{_OPENS_A_WORD}(?:\s+(?:(?:{_PARTICLE})\s+{_CAPITAL}|{_CAPITAL}"
    rf"|\d(?:\S*{_NOT_EDGE})?))*"
)
# The name of an organisation or a work capitalises only the first syllable of each of its words ("Đảng Lao động
# Úc", "Ban Dân vận"): a lowercase syllable between capitalised ones, unless a function word, is part of it.
_FUNCTION_WORDS = "|".join(sorted(STOPWORDS | {"hoặc", "hay", "với", "và"}))
_TITLE_RUN = re.compile(
    rf"{_OPENS_A_WORD}(?:\s+(?:(?:{_PARTICLE})\s+{_CAPITAL}"
    rf"|(?!(?:{_FUNCTION_WORDS})\s)[^\W\d_]+\s+{_CAPITAL}|{_CAPITAL}|\d(?:\S*{_NOT_EDGE})?))*"
)


def _name_runs(text: str, start: int, end: int, pattern: re.Pattern) -> list[list[tuple[int, int]]]:
    """Runs of capitalised words in text[start:end] ("Chí Linh Hoàng Quốc Thưởng"; _NAME_RUN or _TITLE_RUN), each as
    its words' offsets; a lone capital opening the sentence is how sentences start, no name."""
    runs = [[m.span() for m in _SPACED.finditer(text, *run.span())] for run in pattern.finditer(text, start, end)]
    first = _CORE.search(text, start, end)
    if runs and first and runs[0][0][0] == first.start():  # the sentence's first word is capitalised whatever it is
        opening = runs[0][1:] if first.group().lower() in STOPWORDS else runs[0]
        runs = runs[1:] if len(opening) < 2 else [opening] + runs[1:]
    return runs


def _repeats(word: str, key: str, asked: Asked) -> bool:
    """Whether a word of the passage (and its key: lowercased and folded) only repeats the question ("Chí Linh" in an
    answer to "… Chí Linh?"), as written when the question has marks ("Chí" does not repeat "chi bộ"); a short form
    repeats it when the question has its full form ("TP" for "thành phố")."""
    if key in _EXPANDS_TO and _EXPANDS_TO[key] <= asked.syllables:
        return True
    return word.lower() in asked.written if asked.written else key in asked.syllables


def _acronym(word: str) -> bool:
    return len(word) > 1 and word.isupper()


def _names(text: str, folded: str, start: int, end: int, asked: Asked) -> list[Candidate]:
    """The capitalised runs, cut where they repeat the question (_in_name): "Chí Linh Hoàng Quốc Thưởng" asked about
    Chí Linh gives "Hoàng Quốc Thưởng"; a person's from its surname on."""
    found = []
    for run in _name_runs(text, start, end, _TITLE_RUN if asked.kind is AnswerType.NAME else _NAME_RUN):
        piece: list[tuple[int, int]] = []
        for first, last in run + [(0, 0)]:
            opening = (
                bool(asked.head)
                and all(folded[s:e] in asked.head for s, e in piece)
                and (bool(piece) or first == run[0][0])
            )
            if last and _in_name(text[first:last], folded[first:last], asked, opening):
                piece.append((first, last))
                continue
            while piece and text[piece[-1][0] : piece[-1][1]].lower() in _NAME_PARTICLES:
                piece.pop()
            if asked.kind is AnswerType.PERSON:
                piece = _from_surname(text, piece)
            if piece and any(text[s : s + 1].isupper() for s, _ in piece):
                found.append(Candidate(piece[0][0], piece[-1][1]))
            piece = []
    return found


def _in_name(word: str, key: str, asked: Asked, opening: bool) -> bool:
    """Whether a word of a capitalised run (key: folded) belongs to the answer: not the question's own word, unless
    it is the head noun the name opens with ("Đảng" of "Đảng Lao động Úc" for "Đảng nào?"), and for a person no
    short form ("UBND")."""
    if asked.kind is AnswerType.PERSON and _acronym(word):
        return False
    return opening and key in asked.head or not _repeats(word, key, asked)


# The commonest Vietnamese surnames (nine in ten people bear one): a person's full name starts with one.
_SURNAMES = frozenset(
    "nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý đinh đoàn trương "
    "lương mai cao lâm trịnh".split()
)


def _from_surname(text: str, piece: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A person's name from its surname on, when a capitalised run holds a place or a title before a Vietnamese
    full name ("Chí Linh Hoàng Quốc Thưởng": "Hoàng Quốc Thưởng")."""
    at = next((i for i, (s, e) in enumerate(piece[1:-1], start=1) if text[s:e].lower() in _SURNAMES), 0)
    return piece[at:]


_I = re.IGNORECASE
_NUMBER_WORDS = "một|hai|ba|bốn|tư|năm|sáu|bảy|tám|chín|mười|mươi|trăm|nghìn|ngàn|triệu|tỷ|tỉ|lăm|mốt"
_DIGITS = r"\d+(?:[.,:]\d+)*(?:(?:\s*[-–]\s*|\s+(?:đến|tới)\s+)\d+(?:[.,]\d+)*)?"  # a range too: "9 đến 11"
_SCALE = r"(?:\s+(?:nghìn|ngàn|triệu|tỷ|tỉ|trăm))*"
# A money amount's currency is part of the amount ("87 triệu đồng", "$1,5 tỷ").
_CURRENCY = r"(?:\s+(?:đồng|USD|đô\s+la|EUR|euro|bảng\s+Anh|yên|nhân\s+dân\s+tệ))"
_NUMBER = re.compile(rf"(?<![\w.,])\$?{_DIGITS}{_SCALE}(?:\s*%|\s+phần\s+trăm|{_CURRENCY}(?!\w))?(?!\w)", _I)
_SPELLED = re.compile(rf"(?<!\w)(?:{_NUMBER_WORDS})(?:\s+(?:{_NUMBER_WORDS}))*(?!\w)", _I)
_NUMERALS = r"(?:mười\s+)?(?:một|hai|ba|tư|bốn|năm|sáu|bảy|tám|chín|mười|giêng|chạp)"
_DATE_PART = (
    r"(?:ngày|mùng|mồng)\s+\d{1,2}(?:\s*[/-]\s*\d{1,2}(?:\s*[/-]\s*\d{2,4})?)?"
    rf"|tháng\s+(?:\d{{1,2}}(?:\s*/\s*\d{{4}})?|{_NUMERALS})"
    r"|năm\s+\d{1,4}(?:\s+(?:TCN|SCN|trước\s+Công\s+nguyên))?"
    r"|thế\s+k[ỷỉ]\s+(?:thứ\s+)?(?:\d{1,2}|[IVXLC]+)(?:\s+TCN)?"
    r"|(?:thập\s+(?:niên|kỷ|kỉ)|những\s+năm)\s+\d{2,4}"
    r"|\d{1,2}/\d{1,2}(?:/\d{2,4})?"
    r"|(?<![\d.,])(?:1\d{3}|20\d{2})(?![\d%]|[.,]\d)"
)
_DATE = re.compile(rf"(?<!\w)(?:{_DATE_PART})(?:\s*,?\s*(?:{_DATE_PART}))*(?!\w)", _I)
_PERCENT = ("phan", "tram")


_DIGIT = re.compile(r"\d")


def _times(text: str, start: int, end: int) -> list[Candidate]:
    """The dates of text[start:end]."""
    # Every date holds a figure but a month or a century in words ("tháng Giêng", "thế kỷ XV"): without either, the
    # date pattern (slow: it is tried at every place) is not run.
    if not _DIGIT.search(text, start, end) and not any(w in text[start:end].lower() for w in ("tháng", "thế k")):
        return []
    return [Candidate(m.start(), m.end()) for m in _DATE.finditer(text, start, end)]


def _unit_end(text: str, at: int, unit: tuple[str, ...]) -> int | None:
    """Where the unit the question counts in ends when it follows a number ending at `at` ("1,5 tỷ tấn" for "bao
    nhiêu tấn": its first word at least), or None when it does not follow."""
    matched = None
    for key in unit:
        word = _WORD.match(text, at + 1) if text[at : at + 1] == " " else None
        if not word or fold(word.group().lower()) != key:
            break
        at = matched = word.end()
    return matched


def _numbers(text: str, folded: str, start: int, end: int, asked: Asked) -> list[Candidate]:
    """Counts and amounts: figures with their scale ("1,5 tỷ"), those followed by the unit asked in fitting best;
    numbers in words only when that unit follows ("hai đội"); not the years of dates, unless years are counted."""
    dates = [] if asked.unit[:1] == ("nam",) else _times(text, start, end)
    percent = asked.unit == _PERCENT
    found = []
    figures = _NUMBER.finditer(text, start, end) if _DIGIT.search(text, start, end) else ()
    for match in figures:
        if any(d.start <= match.start() < d.end for d in dates):
            continue
        stop = _unit_end(text, match.end(), asked.unit) if asked.unit else None
        written = match.group().rstrip().endswith(("%", "trăm"))
        found.append(Candidate(match.start(), match.end(), written if percent else stop is not None))
    # A count in words needs the unit after it: a sentence without the unit has none.
    spelled = asked.unit and not percent and 0 <= find_word(folded, asked.unit[0], start) < end
    for match in _SPELLED.finditer(text, start, end) if spelled else ():
        stop = _unit_end(text, match.end(), asked.unit)
        if stop is not None and not any(d.start <= match.start() < d.end for d in dates):
            found.append(Candidate(match.start(), match.end(), True))
    return found


_LOCATIVE = frozenset(fold(w) for w in "ở tại từ đến tới vào trong ngoài người".split())


def _candidates(text: str, folded: str, start: int, end: int, asked: Asked) -> list[Candidate]:
    """The spans of text[start:end] of the kind asked for that are more than the question's own words."""
    return [
        c
        for c in _of_kind(text, folded, start, end, asked)
        if not asked.syllables.issuperset(folded[c.start : c.end].split())
    ]


def _of_kind(text: str, folded: str, start: int, end: int, asked: Asked) -> list[Candidate]:
    """The spans of text[start:end] of the kind asked for."""
    if asked.kind is AnswerType.TIME:
        return _times(text, start, end)
    if asked.kind is AnswerType.NUMBER:
        return _numbers(text, folded, start, end, asked)
    names = _names(text, folded, start, end, asked)
    if asked.kind is AnswerType.PLACE:
        return names
    if asked.kind is AnswerType.PERSON:
        names = [c for c in names if not _in_title(text, c.end)]
    # A person's or a thing's name is not one Vietnamese syllable (that is a word opening a phrase: "Nhà thờ", or the
    # piece of a title a lowercase syllable broke off: "Quốc" of "Đại biểu Quốc hội").
    return [c for c in names if " " in text[c.start : c.end] or text[c.start : c.end].isascii()]


# After a capitalised run: a lowercase syllable, not a function word, then a capitalised one ("Đại biểu Quốc").
_TITLE_GOES_ON = re.compile(rf"\s+(?!(?:{_FUNCTION_WORDS})\s)([^\W\d_]+)\s+{_CAPITAL}")


def _in_title(text: str, end: int) -> bool:
    """Whether the capitalised run ending at `end` goes on past a lowercase syllable with capitalised ones: a title
    or an organisation ("Trưởng Đoàn Đại biểu Quốc hội"), which capitalises the first syllable of each word, where a
    person's name capitalises every syllable."""
    goes_on = _TITLE_GOES_ON.match(text, end)
    return goes_on is not None and goes_on[1].islower()


# What the scorer reads off each candidate span (the order of span_weights.WEIGHTS), each a number from 0 to 1. An
# office asked of nobody named reaches the scorer as a name.
_KINDS = tuple(kind for kind in AnswerType if kind is not AnswerType.TITLE)
FEATURES = (
    *(f"asks {kind.value}" for kind in _KINDS),  # the answer type asked for
    *(f"slot for {kind.value}" for kind in _KINDS),  # the slot itself as the answer, per type ("gì" well, "ai" badly)
    "in the slot",  # a candidate of the kind asked for inside the slot
    "slot's anchor",  # how many of the question's words in a row lead to the slot (up to 4)
    "anchor of two",  # two or more
    "gap",  # words between the span and the nearest of the question's words (up to MAX_GAP)
    "touches",  # none
    "only candidate",  # the sentence's only span of the kind asked for
    "candidates",  # 1 / how many it has
    "nearest",  # the one nearest the question's words
    "held",  # the share of what the question is about that the sentence holds
    "repeats",  # the share of the span's syllables that the question has
    "length",  # words, up to 10
    "one word",
    "after là",  # the copula before it
    "after locative",  # "ở, tại, từ, trong…" before it (where, not who)
    "marked",  # the share of its words written with marks (Vietnamese) rather than as spelt abroad
    "fits",  # a count followed by the unit asked in
    "matched near",  # the question's words within 30 characters (up to 4)
)
# The share of what the question is about its sentence must hold before any span is looked for (below it, none
# answered well enough to be worth the search), and the longest gap the scorer tells apart.
MIN_HELD = 0.5
MAX_GAP = 8


@dataclass(slots=True)
class Span:
    """A candidate answer, [start, end) offsets into the passage's text, and what the scorer reads off it
    (FEATURES)."""

    start: int
    end: int
    features: tuple[float, ...]


def short_answer(
    question: str, text: str, sentence: str, highlights: list[list[int]], context: str = "", folded: str = ""
) -> dict | None:
    """The span of the sentence (in text) that answers the question, as {"text", "start", "end"} with offsets into
    text, or None when the question asks for nothing specific or no span scores a confidence of THRESHOLD; context:
    the question as asked with the earlier ones of its conversation, when it leans on them; folded: text's
    folded_text (or the index's folded_sentences), when the caller has it."""
    read = _read(question, text, sentence, highlights, context, folded)
    if read is None:
        return None
    if read.asked.kind is AnswerType.TITLE:  # the office of someone named: where the text writes it beside the name
        best = _office(text, read.start, read.end, read.asked.named)  # none: the person named is given no office
    else:
        best, score = None, -inf
        for span in _spans(read):
            if (this := _score(span.features)) > score:  # the first of equal scores
                best, score = span, this
        if score < _CUT:
            return None
    return None if best is None else {"text": text[best.start : best.end], "start": best.start, "end": best.end}


def confidence_of(features: tuple[float, ...]) -> float:
    """The scorer's estimate of a span's token F1 against the answer: a logistic regression over its features."""
    return 1.0 / (1.0 + exp(-_score(features)))


def _score(features: tuple[float, ...]) -> float:
    return BIAS + sum(map(mul, WEIGHTS, features))


_CUT = log(THRESHOLD / (1 - THRESHOLD))  # the score whose confidence is THRESHOLD


def candidate_spans(
    question: str, text: str, sentence: str, highlights: list[list[int]], context: str = "", folded: str = ""
) -> list[Span]:
    """Every span of the sentence (in text) that may answer the question, with its features (short_answer's
    arguments): those of the kind asked for and the slot; none when the question asks for nothing specific, its
    sentence holds too little of it, or it asks the office of someone named (the text's own apposition answers that,
    not the scorer)."""
    read = _read(question, text, sentence, highlights, context, folded)
    return [] if read is None or read.asked.kind is AnswerType.TITLE else _spans(read)


@dataclass(slots=True)
class _Sentence:
    """The sentence a short answer is looked for in: the passage's text, what the question asks, the sentence's
    [start, end) in text, text folded (folded_text, blank before start), its syllables, the share of the question it
    holds, the matched words' spans and starts."""

    text: str
    asked: Asked
    start: int
    end: int
    folded: str
    keys: frozenset[str]
    held: float
    matched: list[tuple[int, int]]
    starts: list[int]


def _read(
    question: str, text: str, sentence: str, highlights: list[list[int]], context: str, folded: str = ""
) -> _Sentence | None:
    """The sentence (in text) read for the question, or None when the question asks for nothing specific or the
    sentence holds too little of it."""
    start = text.find(sentence) if sentence else -1
    start, end = (0, len(text)) if start < 0 else (start, start + len(sentence))
    matched = [(s, e) for s, e in highlights if start <= s and e <= end]
    if not matched:
        return None
    asked = asked_in_context(question, context) if context and context != question else asked_for(question)
    if asked is None:
        return None
    # Lowercase, no marks, one character for one: each word's key at its own offsets (the sentence's, as text's).
    folded = " " * start + (folded[start:end] if folded else folded_text(text[start:end]))
    keys = frozenset(folded[start:end].split())
    held = _held(keys, asked)
    if held < MIN_HELD:
        return None
    if asked.kind is AnswerType.TITLE and not asked.named:
        asked = replace(asked, kind=AnswerType.NAME)  # nobody named: an office is a name like any other
    return _Sentence(text, asked, start, end, folded, keys, held, matched, [s for s, _ in matched])


def _spans(read: _Sentence) -> list[Span]:
    """The sentence's candidates, with their features: those of the kind asked for, and the slot itself."""
    text, folded, start, end, asked = read.text, read.folded, read.start, read.end, read.asked
    typed = [] if asked.kind is AnswerType.THING else _candidates(text, folded, start, end, asked)
    slot = _slot(text, folded, start, end, read.keys, asked)
    gaps = [_gap(read, c) for c in typed]
    nearest = min(gaps, default=0)
    spans = [_span(read, slot, len(typed), c, gap, gap == nearest) for c, gap in zip(typed, gaps)]
    if slot is not None and not any(c.start == slot.start and c.end == slot.end for c in typed):
        whole = Candidate(slot.start, slot.end)
        spans.append(_span(read, slot, 0, whole, _gap(read, whole), False, itself=True))
    return spans


_ASKS = {kind: tuple(float(k is kind) for k in _KINDS) for kind in _KINDS}
_NO_KIND = (0.0,) * len(_KINDS)


def _span(
    read: _Sentence, slot: Slot | None, count: int, candidate: Candidate, gap: int, nearest: bool, itself: bool = False
) -> Span:
    """A candidate with its features (FEATURES), given the sentence's slot and how many candidates of the kind asked
    for it has; itself: the slot as a whole."""
    text = read.text
    written = text[candidate.start : candidate.end]
    words = written.split()
    keys = read.folded[candidate.start : candidate.end].split()
    before = read.folded[max(0, candidate.start - 12) : candidate.start].split()[-1:]
    in_slot = slot is not None and candidate.start < slot.end and slot.start < candidate.end
    anchor = slot.anchor if in_slot and slot else 0
    features = (
        *_ASKS[read.asked.kind],
        *(_ASKS[read.asked.kind] if itself else _NO_KIND),
        float(in_slot and not itself),
        min(anchor, 4) / 4,
        float(anchor >= 2),
        min(gap, MAX_GAP) / MAX_GAP,
        float(gap == 0),
        float(count == 1),
        1 / count if count else 0.0,
        float(nearest),
        read.held,
        sum(map(read.asked.syllables.__contains__, keys)) / max(len(keys), 1),
        min(len(words), 10) / 10,
        float(len(words) == 1),
        float(before == ["la"]),
        float(bool(before) and before[0] in _LOCATIVE),
        1 - sum(map(str.isascii, words)) / len(words),  # Vietnamese marks, or letters written abroad with accents
        float(candidate.fits),
        min(_near(read.starts, candidate), 4) / 4,
    )
    return Span(candidate.start, candidate.end, features)


def _near(starts: list[int], candidate: Candidate, reach: int = 30) -> int:
    """How many matched words start within `reach` characters of a candidate, on either side."""
    return bisect_left(starts, candidate.end + reach) - bisect_left(starts, candidate.start - reach)


def _gap(read: _Sentence, candidate: Candidate) -> int:
    """How many words stand between a candidate and the nearest matched word (highlights come in order and do not
    overlap)."""
    at = bisect_left(read.starts, candidate.end)
    folded, first, last = read.folded, candidate.start, candidate.end
    # Counted in the sentence's folded_text (punctuation as spaces); 0 when they touch or overlap.
    return min(
        len((folded[last:s] if last <= s else folded[e:first]).split())
        for s, e in read.matched[max(0, at - 2) : at + 1]
    )


# Words of address before a person's name ("Đồng chí Lê Văn Hiệu"): no office.
_ADDRESS = HONORIFICS | {"đồng chí", "các đồng chí"}
# An office written after a name, between commas: up to the next punctuation that closes it.
_APPOSITION = re.compile(r"\s*,\s*([^,;:.()]+?)\s*(?=[,;:.()]|$)")


def _office(text: str, start: int, end: int, named: tuple[str, ...]) -> Candidate | None:
    """The office the sentence gives the first of the people the question names that it writes: after the name
    between commas ("Lê Văn Hiệu, Phó Bí thư Thường trực Tỉnh ủy, …"), or else before it, capitalised as titles are
    ("Bí thư Thành ủy Chí Linh Hoàng Quốc Thưởng"); None when it gives none."""
    for name in named:
        # Whole, in any case, at the text's own offsets (lowercasing the text may change its length).
        written = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE).search(text, start, end)
        if written is None:
            continue
        after = _APPOSITION.match(text, written.end(), end)
        if after and after[1][:1].isupper():
            return Candidate(after.start(1), after.end(1))
        at = written.start()
        before = next((m for m in _TITLE_RUN.finditer(text, start, at + 1) if m.start() < at), None)
        office = text[before.start() : at].rstrip() if before else ""
        if office and office.lower() not in _ADDRESS:
            return Candidate(before.start(), before.start() + len(office))
    return None


# The slot: ended by punctuation, the verbs' helpers and the prepositions that open the next part of a clause (at
# most MAX_SLOT words: a guard, as longer limits change nothing); the copula before it ("được gọi là") is no part of
# it.
MAX_SLOT = 10
_SLOT_REACH = 40 * MAX_SLOT  # characters: more than MAX_SLOT words take
_SLOT_ENDS = frozenset(
    "là đã được bị sẽ đang để khi trong với vào thì mà nhưng vì do bởi nên từ tại ở cho theo và "
    "hay hoặc rằng của như nhằm".split()
)
# What opens a slot and is no part of it: the copula ("được gọi là guru") and the article-like "một" ("là một xã":
# "xã").
_OPENING = frozenset("là được gọi bằng một".split())


@dataclass(slots=True)
class Slot:
    """Where the sentence puts the answer: [start, end) offsets into the passage's text, and how many of the
    question's words in a row lead to it (its anchor)."""

    start: int
    end: int
    anchor: int


def _slot(text: str, folded: str, start: int, end: int, keys: frozenset[str], asked: Asked) -> Slot | None:
    """Where the sentence text[start:end] puts the answer: Vietnamese leaves the question word where the statement has
    the answer ("Tesla hợp tác với ai?": "Tesla hợp tác với Robert Lane"), so after the words that stand before the
    question word, or else before those after it; up to MAX_SLOT words, not across punctuation or into the next
    phrase."""
    found = _run(folded, start, end, keys, asked.before, from_end=True)
    if found is not None:
        # The words after the run, read one by one (a slot is a few words), as many as a slot can hold after the
        # words that open it.
        words = islice(_WORD_AND_CUT.finditer(text, found[1], end), MAX_SLOT + len(_OPENING))
        word = next(words, None)
        while word and text[word.start() : word.end(1)].lower() in _OPENING:
            word = next(words, None)
        if word is None or text[word.start() : word.end(1)].lower() in _SLOT_ENDS:  # the next phrase: not here
            return None
        first, last, size, stop = word.start(), word.end(1), 0, asked.after[:1]
        while (
            word
            and size < MAX_SLOT
            and (size == 0 or text[word.start() : word.end(1)].lower() not in _SLOT_ENDS)
            and (folded[word.start() : word.end(1)],) != stop
        ):
            last, size = word.end(1), size + 1
            if word[2] is not None:  # punctuation cuts it from the next word
                break
            word = next(words, None)
        return Slot(first, last, found[2]) if size else None
    found = _run(folded, start, end, keys, asked.after, from_end=False)
    if found is None:
        return None
    # The words before the run, from a word start far enough back for the longest slot.
    reach = text.find(" ", found[0] - _SLOT_REACH, found[0]) if found[0] - _SLOT_REACH > start else start
    words = _tokens(text, max(reach, start), found[0])
    last = first = len(words)
    while (
        first > 0
        and last - first < MAX_SLOT
        and not words[first - 1][2]
        and _lower(text, words[first - 1]) not in _SLOT_ENDS
    ):
        first -= 1
    return Slot(words[first][0], words[last - 1][1], found[2]) if last > first else None


def _lower(text: str, word: tuple[int, int, bool]) -> str:
    return text[word[0] : word[1]].lower()


def _run(
    folded: str, start: int, end: int, keys: frozenset[str], context: tuple[str, ...], from_end: bool
) -> tuple[int, int, int] | None:
    """Where the sentence folded[start:end] holds the longest run (of up to four) of the question's words next to its
    question word: the last ones of those before it (the head noun of "công ty nào" may be left out), or the first
    ones of those after it; its [start, end) offsets and how many words it holds."""
    for size in range(min(4, len(context)), 0, -1):
        for skip in range(0, 3 if from_end else 1):
            part = context[len(context) - skip - size : len(context) - skip] if from_end else context[:size]
            if len(part) < size or size == 1 and part[0] in _FOLDED_STOPWORDS or not keys.issuperset(part):
                continue
            words = " ".join(part)
            at = find_word(folded, words, start)
            if 0 <= at and at + len(words) <= end:
                return at, at + len(words), size
    return None


def _held(keys: frozenset[str], asked: Asked) -> float:
    """The share of the question's content syllables that the sentence (keys: its syllables, folded) holds."""
    if not asked.content:
        return 1.0
    return len(asked.content & keys) / len(asked.content)
