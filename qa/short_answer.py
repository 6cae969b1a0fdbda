"""The answer itself: from the best sentence of the top passage, the span a question asks for ("Hoàng Quốc Thưởng").

The question's words say what kind of answer it wants (its answer type: a person, a number, a time, a place, a
name); the sentence's spans of that kind are the candidates (capitalised runs for names, patterns for numbers and
dates); the one nearest the words the question matched, and not a repetition of them, is the answer. No candidate
of the asked kind, or none near enough: no short answer (None), rather than a guess.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from .text import ABBREVIATIONS, STOPWORDS, fold, has_marks, normalise


class AnswerType(Enum):
    PERSON = "person"
    NUMBER = "number"
    TIME = "time"
    PLACE = "place"
    NAME = "name"  # "công ty nào", "tên là gì": something named, often written capitalised
    THING = "thing"  # "là gì", "cái gì": a phrase


@dataclass(frozen=True)
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


# Question phrases -> answer type, tried in this order (the first that the question holds wins); written with marks,
# and matched folded when the question has none. "thế nào" (how) and "tại sao" (why) ask for no span.
_NOT_SPECIFIC = ("như thế nào", "thế nào", "ra sao", "tại sao", "vì sao", "làm sao")
_TIME_WORDS = ("năm", "ngày", "tháng", "thế kỷ", "thế kỉ", "thập niên", "thập kỷ", "thời điểm", "thời gian",
               "giai đoạn", "lúc", "thời kỳ", "mùa", "dịp")
_PLACE_WORDS = ("nơi", "chỗ", "địa điểm", "thành phố", "tỉnh", "nước", "quốc gia", "vùng", "khu vực", "châu lục",
                "lục địa", "sông", "đảo", "thị trấn", "huyện", "xã", "bang", "địa phương")
_PERSON_WORDS = ("người", "ông", "bà", "đồng chí", "vị", "nhân vật", "cầu thủ", "nghệ sĩ", "nhà văn", "tác giả")
_RULES: tuple[tuple[AnswerType, tuple[str, ...]], ...] = (
    (AnswerType.TIME, ("khi nào", "bao giờ", "lúc nào", "năm bao nhiêu")
     + tuple(w + " nào" for w in _TIME_WORDS)),
    (AnswerType.NUMBER, ("bao nhiêu", "mấy")),
    (AnswerType.PLACE, ("ở đâu", "đâu") + tuple(w + " nào" for w in _PLACE_WORDS)),
    (AnswerType.PERSON, ("là ai", "ai") + tuple(w + " nào" for w in _PERSON_WORDS)),
    (AnswerType.NAME, ("tên là gì", "gọi là gì", "tên gì", "tên thành gì", "thành gì", "nào")),
    (AnswerType.THING, ("gì",)),
)
_FOLDED_STOPWORDS = frozenset(fold(w) for w in STOPWORDS)
_AMBIGUOUS_FOLDED = {"may", "dau"}  # "mấy"/"máy", "đâu"/"đầu": unmarked, they say nothing
_WORD = re.compile(r"[^\W_]+")


def _phrase_pattern(phrases: tuple[str, ...], marked: bool) -> re.Pattern:
    forms = phrases if marked else tuple(fold(p) for p in phrases if fold(p) not in _AMBIGUOUS_FOLDED)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(forms, key=len, reverse=True))) + r")(?!\w)")


_PATTERNS = {marked: ([(kind, _phrase_pattern(p, marked)) for kind, p in _RULES],
                      _phrase_pattern(_NOT_SPECIFIC, marked)) for marked in (True, False)}
_NAMING = {True: re.compile(r"(?:tên|họ của)(?!\w)"), False: re.compile(r"(?:ten|ho cua)(?!\w)")}
_HOW_MANY = {True: re.compile(r"(?:bao nhiêu|mấy)\s+((?:\w+\s*){1,2})"),
             False: re.compile(r"bao nhieu\s+((?:\w+\s*){1,2})")}


def asked_for(question: str) -> Asked | None:
    """What the question asks for, or None when it asks for no particular span (how, why, or a statement)."""
    text = normalise(question).lower()
    marked = has_marks(text)
    text = text if marked else fold(text)
    rules, not_specific = _PATTERNS[marked]
    if not_specific.search(text):
        return None
    kind, asking = next(((kind, found) for kind, pattern in rules if (found := pattern.search(text))), (None, None))
    if kind is None:
        return None
    if kind is AnswerType.THING and _NAMING[marked].match(text):  # "Tên của … là gì?", "Họ của … là gì?"
        kind = AnswerType.NAME
    unit: tuple[str, ...] = ()
    if kind is AnswerType.NUMBER and (count := _HOW_MANY[marked].search(text)):
        unit = tuple(fold(w) for w in _WORD.findall(count.group(1)))
    syllables = frozenset(fold(w) for w in _WORD.findall(text))
    content = frozenset(fold(w) for w in _WORD.findall(text[:asking.start()] + " " + text[asking.end():]))
    # The question word is the phrase's last syllable ("gì" of "gọi là gì", "nào" of "công ty nào"): what stands
    # before it in its clause, the words of the phrase included, leads to the answer in the sentence.
    word_start = asking.start() + asking.group().rfind(" ") + 1
    clause = _CLAUSE.split(text[:word_start])[-1]
    rest = _CLAUSE.split(text[asking.end():])[0]
    before = tuple(fold(w) for w in _WORD.findall(clause))
    return Asked(kind, unit, syllables, content - _FOLDED_STOPWORDS, before, tuple(fold(w) for w in _WORD.findall(rest)))


_CLAUSE = re.compile(r"[,;:()\[\]“”\"?!.]")


# A span of the sentence that may answer: [start, end) offsets into the passage's text, and its kind.
@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    fits: bool = False  # it carries what the question asks in: the unit of a count ("11 điểm" for "bao nhiêu điểm")


_EDGE = "\"'“”‘’«»()[]{},.;:!?…"
_TOKEN = re.compile(r"\S+")
# Lowercase words inside a name as written abroad ("Lothar de Maizière", "Vincent van Gogh").
_NAME_PARTICLES = frozenset("de da di du del della der den des van von la le al bin ibn of y".split())
_EXPANDS_TO = {fold(short): frozenset(fold(full).split()) for short, full in ABBREVIATIONS.items()}


def _tokens(text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    """The words of text[start:end] without the punctuation around them: (start, end, whether punctuation or the
    sentence's end cuts it from the next word)."""
    words = []
    for match in _TOKEN.finditer(text, start, end):
        word = match.group()
        core = word.strip(_EDGE)
        if not core:
            if words:
                words[-1] = (words[-1][0], words[-1][1], True)
            continue
        at = match.start() + word.index(core)
        if words and at > match.start():  # opening punctuation: a break before this word
            words[-1] = (words[-1][0], words[-1][1], True)
        words.append((at, at + len(core), at + len(core) < match.end()))
    return words


def _capitalised(word: str) -> bool:
    return word[:1].isupper()


def _name_runs(text: str, words: list[tuple[int, int, bool]]) -> list[list[tuple[int, int, bool]]]:
    """Runs of capitalised words ("Chí Linh Hoàng Quốc Thưởng", "Super Bowl 50"), not broken by punctuation; a
    lone capital opening the sentence is how sentences start, no name."""
    runs: list[list[tuple[int, int, bool]]] = []
    current: list[tuple[int, int, bool]] = []
    for i, (start, end, cut) in enumerate(words):
        word = text[start:end]
        inside = current and (word.lower() in _NAME_PARTICLES or word[:1].isdigit()) and \
            i + 1 < len(words) and not cut and _capitalised(text[words[i + 1][0]:words[i + 1][1]])
        if _capitalised(word) or inside or (current and word[:1].isdigit()):
            current.append((start, end, cut))
        elif current:
            runs.append(current)
            current = []
        if cut and current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    if runs and runs[0][0][0] == words[0][0]:  # the sentence's first word is capitalised whatever it is
        opening = runs[0][1:] if text[words[0][0]:words[0][1]].lower() in STOPWORDS else runs[0]
        runs = runs[1:] if len(opening) < 2 else [opening] + runs[1:]
    return runs


def _repeats(word: str, asked: Asked) -> bool:
    """Whether a word of the passage only repeats the question ("Chí Linh" in an answer to "… Chí Linh?"); a short
    form repeats it when the question has its full form ("TP" for "thành phố")."""
    key = fold(word.lower())
    return key in asked.syllables or key in _EXPANDS_TO and _EXPANDS_TO[key] <= asked.syllables


def _acronym(word: str) -> bool:
    return len(word) > 1 and word.isupper()


def _names(text: str, words: list[tuple[int, int, bool]], asked: Asked) -> list[Candidate]:
    """The capitalised runs, cut where they repeat the question (and, for a person, at short forms: "UBND" is
    no one's name): "Chí Linh Hoàng Quốc Thưởng" asked about Chí Linh gives "Hoàng Quốc Thưởng"."""
    found = []
    for run in _name_runs(text, words):
        piece: list[tuple[int, int, bool]] = []
        for start, end, cut in run + [(0, 0, True)]:
            word = text[start:end]
            if end and not _repeats(word, asked) and not (asked.kind is AnswerType.PERSON and _acronym(word)):
                piece.append((start, end, cut))
                continue
            while piece and text[piece[-1][0]:piece[-1][1]].lower() in _NAME_PARTICLES:
                piece.pop()
            if piece and any(_capitalised(text[s:e]) for s, e, _ in piece):
                found.append(Candidate(piece[0][0], piece[-1][1]))
            piece = []
    return found


_I = re.IGNORECASE
_NUMBER_WORDS = "một|hai|ba|bốn|tư|năm|sáu|bảy|tám|chín|mười|mươi|trăm|nghìn|ngàn|triệu|tỷ|tỉ|lăm|mốt"
_DIGITS = r"\d+(?:[.,:]\d+)*(?:\s*[-–]\s*\d+(?:[.,]\d+)*)?"
_SCALE = r"(?:\s+(?:nghìn|ngàn|triệu|tỷ|tỉ|trăm))*"
# A money amount's currency is part of the amount ("87 triệu đồng", "$1,5 tỷ").
_CURRENCY = r"(?:\s+(?:đồng|USD|đô\s+la|EUR|euro|bảng\s+Anh|yên|nhân\s+dân\s+tệ))"
_NUMBER = re.compile(rf"(?<![\w.,])\$?{_DIGITS}{_SCALE}(?:\s*%|\s+phần\s+trăm|{_CURRENCY}(?!\w))?(?!\w)", _I)
_SPELLED = re.compile(rf"(?<!\w)(?:{_NUMBER_WORDS})(?:\s+(?:{_NUMBER_WORDS}))*(?!\w)", _I)
_NUMERALS = r"(?:mười\s+)?(?:một|hai|ba|tư|bốn|năm|sáu|bảy|tám|chín|mười|giêng|chạp)"
_DATE_PART = (r"(?:ngày|mùng|mồng)\s+\d{1,2}(?:\s*[/-]\s*\d{1,2}(?:\s*[/-]\s*\d{2,4})?)?"
              rf"|tháng\s+(?:\d{{1,2}}(?:\s*/\s*\d{{4}})?|{_NUMERALS})"
              r"|năm\s+\d{1,4}(?:\s+(?:TCN|SCN|trước\s+Công\s+nguyên))?"
              r"|thế\s+k[ỷỉ]\s+(?:thứ\s+)?(?:\d{1,2}|[IVXLC]+)(?:\s+TCN)?"
              r"|(?:thập\s+(?:niên|kỷ|kỉ)|những\s+năm)\s+\d{2,4}"
              r"|\d{1,2}/\d{1,2}(?:/\d{2,4})?"
              r"|(?<![\d.,])(?:1\d{3}|20\d{2})(?![\d.,%])")
_DATE = re.compile(rf"(?<!\w)(?:{_DATE_PART})(?:\s*,?\s*(?:{_DATE_PART}))*(?!\w)", _I)
_PERCENT = ("phan", "tram")


def _times(text: str, start: int, end: int) -> list[Candidate]:
    return [Candidate(m.start(), m.end()) for m in _DATE.finditer(text, start, end)]


def _unit_end(text: str, at: int, unit: tuple[str, ...]) -> int | None:
    """Where the unit the question counts in ends when it follows a number ending at `at` ("1,5 tỷ tấn" for "bao
    nhiêu tấn": its first word at least), or None when it does not follow."""
    matched = None
    for key in unit:
        word = _WORD.match(text, at + 1) if text[at:at + 1] == " " else None
        if not word or fold(word.group().lower()) != key:
            break
        at = matched = word.end()
    return matched


def _numbers(text: str, start: int, end: int, asked: Asked) -> list[Candidate]:
    """Counts and amounts: figures with their scale ("1,5 tỷ"), those followed by the unit asked in fitting best;
    numbers in words only when that unit follows ("hai đội"); not the years of dates, unless years are counted."""
    dates = [] if asked.unit[:1] == ("nam",) else _times(text, start, end)
    percent = asked.unit == _PERCENT
    found = []
    for match in _NUMBER.finditer(text, start, end):
        if any(d.start <= match.start() < d.end for d in dates):
            continue
        stop = _unit_end(text, match.end(), asked.unit) if asked.unit else None
        written = match.group().rstrip().endswith(("%", "trăm"))
        found.append(Candidate(match.start(), match.end(), written if percent else stop is not None))
    for match in _SPELLED.finditer(text, start, end):
        stop = _unit_end(text, match.end(), asked.unit) if asked.unit and not percent else None
        if stop is not None and not any(d.start <= match.start() < d.end for d in dates):
            found.append(Candidate(match.start(), match.end(), True))
    return found


_LOCATIVE = frozenset(fold(w) for w in "ở tại từ đến tới vào trong ngoài người".split())


def _candidates(text: str, start: int, end: int, asked: Asked) -> list[Candidate]:
    """The sentence's spans of the kind asked for."""
    if asked.kind is AnswerType.TIME:
        return _times(text, start, end)
    if asked.kind is AnswerType.NUMBER:
        return _numbers(text, start, end, asked)
    names = _names(text, _tokens(text, start, end), asked)
    if asked.kind is AnswerType.PLACE:
        return names
    # A person's or a thing's name is not one Vietnamese syllable (that is a word opening a phrase: "Nhà thờ"),
    # and a person is not where something happens, nor a people ("người Norman").
    return [c for c in names if not (_one_syllable(text[c.start:c.end]) or
                                     asked.kind is AnswerType.PERSON and _after(text, c.start) in _LOCATIVE)]


def _one_syllable(name: str) -> bool:
    return " " not in name and has_marks(name)


def _after(text: str, start: int) -> str:
    """The word before a span, folded and lowercase ("" at the start)."""
    words = _WORD.findall(text, max(0, start - 12), start)
    return fold(words[-1].lower()) if words else ""


# How many words may stand between an answer and the nearest word the question matched, and how much of what the
# question is about its sentence must hold: further, or less, and the span is a guess.
MAX_GAP = 4
MIN_HELD = 0.6


def short_answer(question: str, text: str, sentence: str, highlights: list[list[int]]) -> dict | None:
    """The span of the sentence (in text) that answers the question, as {"text", "start", "end"} with offsets into
    text, or None when the question asks for nothing specific or no span of the kind asked for stands near its
    words."""
    asked = asked_for(question)
    start = text.find(sentence) if sentence else -1
    start, end = (0, len(text)) if start < 0 else (start, start + len(sentence))
    matched = [(s, e) for s, e in highlights if start <= s and e <= end]
    if asked is None or not matched or _held(text[start:end], asked) < MIN_HELD:
        return None
    words = _tokens(text, start, end)
    slot = _slot(text, words, asked)
    chosen = _typed(text, start, end, asked, matched, slot) if asked.kind is not AnswerType.THING else None
    if chosen is None and slot and asked.kind in (AnswerType.THING, AnswerType.NAME):
        chosen = Candidate(*slot)
    if chosen is None:
        return None
    return {"text": text[chosen.start:chosen.end], "start": chosen.start, "end": chosen.end}


def _typed(text: str, start: int, end: int, asked: Asked, matched: list[tuple[int, int]],
           slot: tuple[int, int] | None) -> Candidate | None:
    """The candidate of the kind asked for: in the slot the question word points at, or else nearest the matched
    words; one that carries the unit asked in first."""
    best: tuple[tuple[bool, bool, int], Candidate] | None = None
    for candidate in _candidates(text, start, end, asked):
        words = [fold(w.lower()) for w in _WORD.findall(text, candidate.start, candidate.end)]
        if not words or all(w in asked.syllables for w in words):
            continue
        gap = min(_words_between(text, candidate, s, e) for s, e in matched)
        outside = slot is None or not (candidate.start < slot[1] and slot[0] < candidate.end)
        key = (not candidate.fits, outside, gap)
        if gap <= MAX_GAP and (best is None or key < best[0]):
            best = (key, candidate)
    return best[1] if best else None


# Words that end the answer's slot: the verbs' helpers and the prepositions that open the next part of a clause.
MAX_SLOT = 6
_SLOT_ENDS = frozenset("là đã được bị sẽ đang để khi trong với vào thì mà nhưng vì do bởi nên từ tại ở cho theo và "
                       "hay hoặc rằng của".split())


_COPULA = frozenset("là được gọi bằng".split())


def _slot(text: str, words: list[tuple[int, int, bool]], asked: Asked) -> tuple[int, int] | None:
    """Where the sentence puts the answer: Vietnamese leaves the question word where the statement has the answer
    ("Tesla hợp tác với ai?": "Tesla hợp tác với Robert Lane"), so after the words that stand before the question
    word, or else before those after it; up to MAX_SLOT words, not across punctuation or into the next phrase."""
    keys = [fold(text[s:e].lower()) for s, e, _ in words]
    lower = [text[s:e].lower() for s, e, _ in words]
    found = _run(keys, asked.before, from_end=True)
    if found is not None:
        first = found[1]
        while first < len(words) and lower[first] in _COPULA:  # "được gọi là guru": the answer follows
            first += 1
        if first < len(words) and lower[first] in _SLOT_ENDS:  # the next phrase: the answer is not here
            return None
        last = first
        stop = asked.after[:1]
        while last < len(words) and last - first < MAX_SLOT and (last == first or lower[last] not in _SLOT_ENDS) \
                and keys[last:last + 1] != list(stop):
            last += 1
            if words[last - 1][2]:
                break
        return (words[first][0], words[last - 1][1]) if last > first else None
    found = _run(keys, asked.after, from_end=False)
    if found is None:
        return None
    last = first = found[0]
    while first > 0 and last - first < MAX_SLOT and not words[first - 1][2] and lower[first - 1] not in _SLOT_ENDS:
        first -= 1
    return (words[first][0], words[last - 1][1]) if last > first else None


def _run(keys: list[str], context: tuple[str, ...], from_end: bool) -> tuple[int, int] | None:
    """Where the sentence's words hold the longest run (of up to four) of the question's words next to its question
    word: the last ones of those before it (the head noun of "công ty nào" may be left out), or the first ones of
    those after it; [start, end) word positions."""
    for size in range(min(4, len(context)), 0, -1):
        for skip in range(0, 3 if from_end else 1):
            part = list(context[len(context) - skip - size:len(context) - skip] if from_end else context[:size])
            if len(part) < size or size == 1 and part[0] in _FOLDED_STOPWORDS:
                continue
            at = next((i for i in range(len(keys) - size + 1) if keys[i:i + size] == part), None)
            if at is not None:
                return at, at + size
    return None


def _held(sentence: str, asked: Asked) -> float:
    """The share of the question's content syllables that the sentence holds."""
    if not asked.content:
        return 1.0
    return len(asked.content.intersection(fold(w.lower()) for w in _WORD.findall(sentence))) / len(asked.content)


def _words_between(text: str, candidate: Candidate, start: int, end: int) -> int:
    """How many words stand between a candidate and a matched word (0 when they touch or overlap)."""
    gap = text[candidate.end:start] if candidate.end <= start else text[end:candidate.start]
    return len(_WORD.findall(gap))
