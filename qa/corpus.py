"""Documents in (.txt, .md, .html, .jsonl), clean article text and passages with offsets out."""
from __future__ import annotations

import codecs
import json
import logging
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator

from .settings import MAX_PASSAGE_CHARS
from .text import SYLLABLE, folded_text, normalise

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".html", ".htm", ".jsonl")
MIN_PASSAGE_SYLLABLES = 4  # stray labels are not passages
# Bump when cleaning or cutting into passages changes: a rebuild then cleans and cuts every document again.
READER_VERSION = "3"

# Lines that belong to the page around an article, not to the article.
_RESIDUE = re.compile(
    r"^(email|e-mail|họ và tên|họ tên|lời bình|xác thực|gửi|gửi bình luận|bình luận|ý kiến|ý kiến bình luận|"
    r"chia sẻ|in bài|lưu bài|bản in|đăng nhập|đăng ký|quay lại|về đầu trang|trở lại|xem thêm|đọc thêm|"
    r"tags?|từ khóa|từ khoá|share|like|tweet|print|facebook|zalo)\s*:?$",
    re.IGNORECASE,
)
# Where the article ends and the page's related links and comment form begin.
_TAIL = re.compile(
    r"^(có thể bạn quan tâm|tin liên quan|tin cùng chuyên mục|bài viết liên quan|các tin khác|tin khác|"
    r"tin mới|đọc nhiều|xem nhiều|ý kiến bình luận|ý kiến bạn đọc|bình luận của bạn)\s*:?$",
    re.IGNORECASE,
)
_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:\D+(\d{1,2}):(\d{2}))?")
_DATE_LINE = re.compile(r"^(?:(?:thứ\s+\w+|chủ nhật)\s*,?\s*)?(?:ngày\s+)?\d{1,2}/\d{1,2}/\d{4}(?:\s*[-,|]?\s*\d{1,2}:\d{2}(?::\d{2})?)?(?:\s*\(?gmt[+-]\d+\)?)?$", re.IGNORECASE)
# Where a news article comes from, opening its first paragraph: "(ĐCSVN) -", "HÀ NỘI (TTXVN) –".
_SOURCE_TAG = re.compile(r"^[^()\n]{0,40}?\(([^()\n]{2,40})\)\s*[-–—]")
BYLINE_WORDS = 6  # "Nhóm PV", "Nguyễn Văn Hải (TTXVN)"; more capitalised words make a heading
_SENTENCE_END = re.compile(r"[.!?…:;\"”»)]\s*$")
# A sentence ends at . ! ? … followed by space and a capital, digit or quote, or at a line break.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])[\"”»)]*\s+(?=[\"“«(]?[A-ZÀ-ỸĐ0-9])|\n+")
# Not a sentence end: a title or place abbreviation, or an initial ("Michael E. Mann", "T. T. Tsui"), looked for
# in the last few characters before a break (searching the whole sentence each time cost more than the ranking).
_NOT_A_BREAK = re.compile(r"(?<![^\s.])(?:TP|Tp|TS|PGS|GS|ThS|BS|KS|St|Mr|Mrs|Dr|v\.v|[A-ZÀ-ỸĐ])\.[\"”»)]*$")
_NOT_A_BREAK_WITHIN = 16
_MARKED_SENTENCE = re.compile(r"[^\n]+")


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    text: str  # normalised article text, paragraphs separated by blank lines
    source: str
    date: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Draft:
    """A document as its file gives it, before cleaning: what a rebuild compares to reuse what it made before."""

    id: str
    lines: tuple[str, ...]
    source: str
    title: str | None = None
    date: str | None = None
    url: str | None = None

    def clean(self) -> Document:
        return make_document(self.id, list(self.lines), self.source, self.title, self.date, self.url)


@dataclass(frozen=True)
class Passage:
    id: str
    doc_id: str
    title: str
    text: str
    start: int  # offsets into the document's text
    end: int


@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str


class UndecodableError(ValueError):
    """The bytes of a file are not text in any encoding we accept."""


def find_sources(paths: Iterable[Path]) -> list[Path]:
    """Every document file named or inside a named folder, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        else:
            found.append(path)
    return found


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, or Windows-1258 when it reads as text."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1258")
    except UnicodeDecodeError as error:
        raise UndecodableError("not UTF-8, UTF-16 or Windows-1258 text") from error
    if re.search(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]", text):
        raise UndecodableError("binary data, not text")
    return text


def read_documents(paths: Iterable[Path]) -> Iterator[Document | Skipped]:
    """Documents from files, and a Skipped for every file (or JSONL line) that gives none."""
    for item in read_drafts(paths):
        if isinstance(item, Skipped):
            yield item
            continue
        document = item.clean()
        yield document if document.text else Skipped(item.source, "no article text")


def read_drafts(paths: Iterable[Path]) -> Iterator[Draft | Skipped]:
    """Documents as the files give them, not yet cleaned, and a Skipped for every file or line that cannot be read."""
    for path in find_sources(paths):
        try:
            text = decode(path.read_bytes())
        except (OSError, UndecodableError) as error:
            yield Skipped(str(path), str(getattr(error, "strerror", None) or error))
            continue
        suffix = path.suffix.lower()
        if suffix == ".jsonl":
            yield from _jsonl_drafts(text, path)
            continue
        reader = {".html": _html_lines, ".htm": _html_lines, ".md": _markdown_lines}.get(suffix, _text_lines)
        title_hint, lines = reader(text)
        yield Draft(path.stem, tuple(lines), str(path), title=title_hint)


def make_document(doc_id: str, lines: list[str], source: str, title: str | None = None,
                  date: str | None = None, url: str | None = None) -> Document:
    """Clean lines into a document: title and date line become metadata, page residue is dropped, and what the page
    says about the article (date line, source tag, byline) becomes its last paragraph."""
    lines = [normalise(line).strip() for line in lines]
    lines = [line for line in lines if line]
    if title is None and lines:
        title, lines = lines[0], lines[1:]
    date_line = None
    if lines and _DATE_LINE.match(lines[0]):
        date = date or _iso_date(lines[0])
        date_line, lines = lines[0], lines[1:]
    kept: list[str] = []
    for line in lines:
        if _TAIL.match(line):
            break
        if not _RESIDUE.match(line) and SYLLABLE.search(line):
            kept.append(line)
    paragraphs = _join_wrapped(kept)
    byline = paragraphs.pop() if len(paragraphs) > 1 and _is_byline(paragraphs[-1]) else None
    tag = _SOURCE_TAG.match(paragraphs[0]) if paragraphs else None
    about = _about_the_page(date_line, tag.group(1) if tag else None, byline)
    return Document(doc_id, normalise(title or doc_id).strip(), "\n\n".join(paragraphs + about), source, date, url)


def _is_byline(paragraph: str) -> bool:
    """An article's last line that names who wrote it: a few capitalised words, no full stop, no label ("Ảnh: TTXVN"
    credits a photo)."""
    words = SYLLABLE.findall(paragraph)
    return "\n" not in paragraph and ":" not in paragraph and 0 < len(words) <= BYLINE_WORDS \
        and all(w[0].isupper() for w in words) and not re.search(r"[.!?…;]\s*$", paragraph)


def _about_the_page(date_line: str | None, source: str | None, byline: str | None) -> list[str]:
    """What a news page says about its article (when and where it was posted, who wrote it), written out as a
    paragraph of its own: people ask it ("Bài báo được đăng lúc mấy giờ?", "Ai là tác giả bài viết?"), and the
    date line and byline are too short to be passages."""
    posted = "Bài báo được đăng" + (f" trên {source}" if source else "") + (f" lúc {date_line}" if date_line else "")
    facts = [posted + "." if source or date_line else "", f"Tác giả: {byline}." if byline else ""]
    return [" ".join(f for f in facts if f)] if any(facts) else []


def _join_wrapped(lines: list[str]) -> list[str]:
    """Paragraphs from lines: a line that stops mid-sentence is a heading or a wrap, joined to the next."""
    paragraphs: list[str] = []
    pending: list[str] = []
    for line in lines:
        pending.append(line)
        if _SENTENCE_END.search(line):
            paragraphs.append("\n".join(pending))
            pending = []
    if pending:
        paragraphs.append("\n".join(pending))
    return paragraphs


def _iso_date(line: str) -> str | None:
    match = _DATE.search(line)
    if not match:
        return None
    day, month, year, hour, minute = match.groups()
    date = f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
    return f"{date}T{int(hour):02d}:{minute}" if hour else date


def _text_lines(text: str) -> tuple[str | None, list[str]]:
    return None, text.split("\n")


def _markdown_lines(text: str) -> tuple[str | None, list[str]]:
    """Markdown to plain lines: the first heading is the title, links keep their words."""
    title = None
    lines = []
    for line in text.split("\n"):
        if re.match(r"^\s*(```|---+\s*$|\*\*\*+\s*$|!\[)", line):
            continue
        heading = re.match(r"^\s*#{1,6}\s+(.*)", line)
        line = heading.group(1) if heading else re.sub(r"^\s*(?:[-*+]|\d+\.)\s+|^\s*>\s?", "", line)
        line = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line)
        line = re.sub(r"(\*\*|__|\*|_|`)(\S.*?\S|\S)\1", r"\2", line)
        if heading and title is None:
            title = line.strip()
            continue
        lines.append(line)
    return title, lines


class _ArticleText(HTMLParser):
    """Text of the blocks of an HTML page, without scripts, styles, navigation and forms."""

    SKIP = {"script", "style", "nav", "header", "footer", "aside", "form", "noscript", "iframe", "svg",
            "button", "select", "template"}
    BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article",
             "blockquote", "figcaption", "dd", "dt", "pre", "time", "td", "table", "ul", "ol"}
    VOID = {"br", "img", "hr", "meta", "link", "input", "source", "wbr", "area", "base", "col", "embed"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.skipping: list[str] = []
        self.title = ""
        self.h1: str | None = None
        self.date: str | None = None
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "meta" and found.get("property") in ("article:published_time", "og:published_time"):
            self.date = self.date or (found.get("content") or None)
        if tag == "time" and found.get("datetime"):
            self.date = self.date or found["datetime"]
        if tag in self.VOID:
            if tag == "br":
                self.lines.append("")
            return
        if tag in self.SKIP:
            self.skipping.append(tag)
        if tag in ("title", "h1"):
            self._in = tag
        if tag in self.BLOCK:
            self.lines.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and tag == self.skipping[-1]:
            self.skipping.pop()
        if tag == self._in:
            self._in = None
        if tag in self.BLOCK:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
            return
        if self.skipping:
            return
        if self._in == "h1":
            self.h1 = (self.h1 or "") + data
            return
        self.lines[-1] += data


def _html_lines(text: str) -> tuple[str | None, list[str]]:
    parser = _ArticleText()
    parser.feed(text)
    parser.close()
    title = (parser.h1 or parser.title).strip() or None
    lines = [" ".join(line.split()) for line in parser.lines]
    if parser.date:
        lines.insert(0, _iso_date_to_line(parser.date))
    return title, lines


def _iso_date_to_line(value: str) -> str:
    """An ISO date from HTML metadata, written as the d/m/Y line an article shows."""
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?", value)
    if not match:
        return ""
    year, month, day, hour, minute = match.groups()
    return f"{day}/{month}/{year}" + (f" {hour}:{minute}" if hour else "")


def _jsonl_drafts(text: str, path: Path) -> Iterator[Draft | Skipped]:
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield Skipped(where, f"invalid JSON ({error.msg})")
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            yield Skipped(where, 'each line must be an object with a "text" string')
            continue
        doc_id = str(record.get("id") or f"{path.stem}-{number}")
        title = record.get("title")
        yield Draft(doc_id, tuple(record["text"].split("\n")), where, title=str(title) if title else doc_id,
                    date=_str_or_none(record.get("date")), url=_str_or_none(record.get("url")))


def _str_or_none(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentences as [start, end) offsets, never cut inside an abbreviation such as "TP."."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_BREAK.finditer(text):
        end = match.start()
        if "\n" not in match.group() and _NOT_A_BREAK.search(text, max(start, end - _NOT_A_BREAK_WITHIN), end):
            continue
        if text[start:end].strip():
            spans.append((start, end))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def folded_sentences(text: str) -> str:
    """What answers are matched in (text.folded_text, offsets kept) with the sentence breaks marked: newlines
    between the sentences of sentence_spans. Made once when the index is built, so that choosing an answer's
    sentence is a search for newlines (sentence_spans_in), not sentence splitting again at every question."""
    folded = folded_text(text)
    pieces, at = [], 0
    for start, end in sentence_spans(text):
        pieces += ["\n" * (start - at), folded[start:end]]  # between sentences: spaces, quotes, punctuation
        at = end
    return "".join(pieces) + "\n" * (len(text) - at)


def sentence_spans_in(marked: str) -> list[tuple[int, int]]:
    """sentence_spans of a text, read from its folded_sentences."""
    return [match.span() for match in _MARKED_SENTENCE.finditer(marked)]


def passage_id(doc_id: str, ordinal: int) -> str:
    """The id of a document's passage number ordinal (from 0): "chi-linh#3"."""
    return f"{doc_id}#{ordinal}"


def passages(document: Document) -> list[Passage]:
    """Paragraphs, and windows of whole sentences where a paragraph is too long to take in at a glance."""
    found: list[Passage] = []
    for para_start, para_end in _paragraph_spans(document.text):
        for start, end in _windows(document.text, para_start, para_end):
            text = document.text[start:end]
            if len(list(islice(SYLLABLE.finditer(text), MIN_PASSAGE_SYLLABLES))) == MIN_PASSAGE_SYLLABLES:
                found.append(Passage(passage_id(document.id, len(found)), document.id, document.title, text, start,
                                     end))
    return found


def _paragraph_spans(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for match in re.finditer(r"\n\n", text):
        yield start, match.start()
        start = match.end()
    yield start, len(text)


def _windows(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Cut [start, end) between sentences into windows of at most MAX_PASSAGE_CHARS (one sentence may be more)."""
    if end - start <= MAX_PASSAGE_CHARS:
        yield start, end
        return
    window_start = window_end = None
    for s, e in sentence_spans(text[start:end]):
        s, e = s + start, e + start
        if window_start is not None and e - window_start > MAX_PASSAGE_CHARS:
            yield window_start, window_end
            window_start = None
        if window_start is None:
            window_start = s
        window_end = e
    if window_start is not None:
        yield window_start, window_end
