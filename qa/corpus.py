"""Documents in (.txt, .md, .html, .jsonl), clean article text and passages with offsets out."""

from __future__ import annotations

import codecs
import json
import logging
import re
import stat
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from .blocks import Article
from .read_html import read_page
from .read_markdown import read_markdown
from .settings import MAX_PASSAGE_CHARS
from .text import SYLLABLE, folded_text, normalise

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".html", ".htm", ".jsonl")
MIN_PASSAGE_SYLLABLES = 4  # stray labels are not passages
MAX_TITLE_CHARS = 200  # a longer first line is text, not a title
MAX_FILE_SIZE = 64 * 1024 * 1024  # a larger file is refused unread (qa index build --max-file-size)
# Bump when cleaning or cutting into passages changes: a rebuild then cleans and cuts every document again.
READER_VERSION = "5"

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
_DATE_LINE = re.compile(
    r"^(?:(?:thứ\s+\w+|chủ nhật)\s*,?\s*)?(?:ngày\s+)?\d{1,2}/\d{1,2}/\d{4}"  # a weekday, then the date
    r"(?:\s*[-,|]?\s*\d{1,2}:\d{2}(?::\d{2})?)?(?:\s*\(?gmt[+-]\d+\)?)?$",  # a time and a time zone, maybe
    re.IGNORECASE,
)
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
_LINE_END = re.compile(r"\r\n?|\n")  # CR, LF and CRLF alike
_NOT_REGULAR = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    text: str  # normalised article text, paragraphs separated by blank lines
    source: str
    date: str | None = None
    url: str | None = None
    headings: tuple[tuple[int, int], ...] = ()  # [start, end) of the lines of text that are headings


@dataclass(frozen=True)
class Draft:
    """A document as its file gives it, before cleaning: what a rebuild compares to reuse what it made before."""

    id: str
    lines: tuple[str, ...]
    source: str
    title: str | None = None
    date: str | None = None
    url: str | None = None
    author: str | None = None
    blocks: bool = False  # lines are whole paragraphs (HTML, Markdown), not lines of text that may wrap
    headings: tuple[str, ...] = ()  # the lines of paragraphs that are headings (HTML, Markdown)

    def clean(self) -> Document:
        return make_document(
            self.id,
            list(self.lines),
            self.source,
            self.title,
            self.date,
            self.url,
            self.author,
            self.blocks,
            self.headings,
        )


@dataclass(frozen=True)
class Passage:
    id: str
    doc_id: str
    title: str
    text: str
    start: int  # offsets into the document's text
    end: int
    url: str | None = None  # the document's
    date: str | None = None  # the document's, ISO 8601 when the reader could tell
    headings: tuple[tuple[int, int], ...] = ()  # [start, end) of its lines that are headings, offsets into text

    def in_heading(self, span: tuple[int, int]) -> bool:
        """Whether the span of text lies in one of the passage's headings."""
        return any(start <= span[0] and span[1] <= end for start, end in self.headings)


@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str


class UnreadableError(ValueError):
    """A source that is not read: not a regular file, too large, or not text."""


class UndecodableError(UnreadableError):
    """The bytes of a file are not text in any encoding we accept."""


def find_sources(paths: Iterable[Path]) -> list[Path]:
    """Every document named or inside a named folder (a FIFO or device too, to be refused by name), in a stable
    order."""
    return [path for path, _ in _named_sources(paths)]


def _named_sources(paths: Iterable[Path]) -> list[tuple[Path, str]]:
    """find_sources() with the id each file's document gets: a file named on its own, its name without the suffix; a
    file inside a named folder, its path in that folder ("a/tin" for a/tin.txt): two tin.txt in two folders are two
    documents, and the same file gets the same id each time its folder is named."""
    found: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            found += [
                (p, p.relative_to(path).with_suffix("").as_posix())
                for p in sorted(p for p in path.rglob("*") if not p.is_dir() and p.suffix.lower() in SUFFIXES)
            ]
        else:
            found.append((path, path.stem))
    return found


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, or Windows-1258 when it reads as text."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:  # a lone surrogate, an odd number of bytes
            raise UndecodableError(f"opens as UTF-16 but is not UTF-16 text: {error.reason}") from error
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


def read_text(path: Path, max_size: int = MAX_FILE_SIZE) -> str:
    """The text of a regular file of at most max_size bytes, lines ending in LF; a FIFO, device or socket is never
    opened (reading it could block or never end)."""
    info = path.stat()
    for is_kind, kind in _NOT_REGULAR:
        if is_kind(info.st_mode):
            raise UnreadableError(f"not a regular file ({kind})")
    too_large = UnreadableError(f"larger than {max_size:,} bytes (qa index build --max-file-size raises the limit)")
    if info.st_size > max_size:
        raise too_large
    with path.open("rb") as handle:
        data = handle.read(max_size + 1)  # the file may have grown since
    if len(data) > max_size:
        raise too_large
    return "\n".join(_LINE_END.split(decode(data)))


def read_documents(paths: Iterable[Path], max_file_size: int = MAX_FILE_SIZE) -> Iterator[Document | Skipped]:
    """Documents from files, and a Skipped for every file (or JSONL line) that gives none."""
    for item in read_drafts(paths, max_file_size):
        if isinstance(item, Skipped):
            yield item
            continue
        document = item.clean()
        yield document if document.text else Skipped(item.source, "no article text")


def read_drafts(paths: Iterable[Path], max_file_size: int = MAX_FILE_SIZE) -> Iterator[Draft | Skipped]:
    """Documents as the files give them, not yet cleaned, and a Skipped for every file or line that cannot be read
    and every document whose id an earlier one has (ids name passages: two documents never share one)."""
    first: dict[str, str] = {}  # id -> where it was first read
    for draft in _drafts(paths, max_file_size):
        if isinstance(draft, Draft) and draft.id in first:
            yield Skipped(draft.source, f"duplicate id {draft.id!r} (first read from {first[draft.id]})")
            continue
        if isinstance(draft, Draft):
            first[draft.id] = draft.source
        yield draft


def _drafts(paths: Iterable[Path], max_file_size: int) -> Iterator[Draft | Skipped]:
    for path, doc_id in _named_sources(paths):
        try:
            text = read_text(path, max_file_size)
        except (OSError, UnreadableError) as error:
            yield Skipped(str(path), str(getattr(error, "strerror", None) or error))
            continue
        suffix = path.suffix.lower()
        if suffix == ".jsonl":
            yield from _jsonl_drafts(text, path, doc_id)
            continue
        if suffix not in (".html", ".htm", ".md"):
            yield Draft(doc_id, tuple(text.split("\n")), str(path))
            continue
        article: Article = read_markdown(text) if suffix == ".md" else read_page(text)
        yield Draft(
            doc_id,
            tuple(article.paragraphs),
            str(path),
            article.title,
            article.date,
            article.url,
            article.author,
            blocks=True,
            headings=article.headings,
        )


def make_document(
    doc_id: str,
    lines: list[str],
    source: str,
    title: str | None = None,
    date: str | None = None,
    url: str | None = None,
    author: str | None = None,
    blocks: bool = False,
    headings: Iterable[str] = (),
) -> Document:
    """Clean lines into a document: title and date line become metadata, page residue is dropped, and what the page
    says about the article (date line, source tag, byline or author) becomes its last paragraph. With blocks, each
    line is a whole paragraph already (its lines, such as a heading and its text, kept apart); the lines of them
    that headings names are the document's headings."""
    units = [normalise(line).strip() for line in lines]
    units = [unit for unit in units if unit]
    if title is None and units:
        title, _, rest = units[0].partition("\n")
        if len(title) <= MAX_TITLE_CHARS:  # a longer first line is text
            units[0:1] = [rest.strip()] if rest.strip() else []
    date_line = None
    if units and _DATE_LINE.match(units[0]):  # the page's date line, above the article
        shown = _iso_date(units[0])
        if date is None or (shown or "").startswith(f"{date}T"):  # the page's metadata had the day without the time
            date = shown
        date_line, units = units[0], units[1:]
    if blocks and date:
        date_line = _iso_date_to_line(date)
    kept = _without_residue([unit.split("\n") for unit in units] if blocks else [[unit] for unit in units])
    paragraphs = ["\n".join(unit) for unit in kept] if blocks else _join_wrapped([line for [line] in kept])
    last = paragraphs[-1] if len(paragraphs) > 1 else ""
    byline = paragraphs.pop() if _is_byline(last) or author and last.casefold() == author.casefold() else None
    tag = _SOURCE_TAG.match(paragraphs[0]) if paragraphs else None
    about = _about_the_page(date_line, tag.group(1) if tag else None, author or byline)
    return Document(
        doc_id,
        _title(title or doc_id),
        "\n\n".join(paragraphs + about),
        source,
        date,
        url,
        _line_spans(paragraphs, {normalise(h).strip() for h in headings}),
    )


def _line_spans(paragraphs: list[str], wanted: set[str]) -> tuple[tuple[int, int], ...]:
    """The [start, end) offsets of the wanted lines in the paragraphs joined by blank lines."""
    spans, at = [], 0
    for paragraph in paragraphs:
        for line in paragraph.split("\n"):
            if line in wanted:
                spans.append((at, at + len(line)))
            at += len(line) + 1
        at += 1  # the blank line between paragraphs
    return tuple(spans)


def headings_within(headings: Iterable[Sequence[int]], start: int, end: int) -> tuple[tuple[int, int], ...]:
    """A document's headings ([start, end) in its text) that lie in [start, end), as offsets from start."""
    return tuple((s - start, e - start) for s, e in headings if start <= s and e <= end)


def _without_residue(units: list[list[str]]) -> list[list[str]]:
    """The units' lines without page residue, up to where the page's related links and comments begin."""
    kept: list[list[str]] = []
    for unit in units:
        lines = []
        for line in unit:
            if _TAIL.match(line):
                return kept + [lines] if lines else kept
            if not _RESIDUE.match(line) and SYLLABLE.search(line):
                lines.append(line)
        if lines:
            kept.append(lines)
    return kept


def _title(title: str) -> str:
    """A title on one line of at most MAX_TITLE_CHARS, cut at a space (with "…") when longer."""
    title = " ".join(normalise(title).split())
    if len(title) <= MAX_TITLE_CHARS:
        return title
    cut = title.rfind(" ", 0, MAX_TITLE_CHARS)
    return title[: cut if cut > 0 else MAX_TITLE_CHARS - 1].rstrip() + "…"


def _is_byline(paragraph: str) -> bool:
    """An article's last line that names who wrote it: a few capitalised words, no full stop, no label ("Ảnh: TTXVN"
    credits a photo)."""
    words = SYLLABLE.findall(paragraph)
    return (
        "\n" not in paragraph
        and ":" not in paragraph
        and 0 < len(words) <= BYLINE_WORDS
        and all(w[0].isupper() for w in words)
        and not re.search(r"[.!?…;]\s*$", paragraph)
    )


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


def _iso_date_to_line(value: str) -> str:
    """An ISO date from HTML metadata, written as the d/m/Y line an article shows."""
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?", value)
    if not match:
        return ""
    year, month, day, hour, minute = match.groups()
    return f"{day}/{month}/{year}" + (f" {hour}:{minute}" if hour else "")


_JSONL_FIELDS = ("id", "title", "text", "date", "url", "author")
ID_RULE = '"id" must hold no control character and no empty, "." or ".." part'
CONTROL = re.compile("[\x00-\x1f\x7f]")  # characters no name or id may hold


def usable_id(doc_id: str) -> bool:
    """Whether a document id given in a document (a JSON line, a posted document) can name it: /api/documents/<id>
    must reach it, and a browser or proxy resolves "a/../b" to "b"."""
    parts = doc_id.split("/")
    return not CONTROL.search(doc_id) and not {"", ".", ".."} & set(parts)


def _jsonl_drafts(text: str, path: Path, file_id: str) -> Iterator[Draft | Skipped]:
    """A draft for each line of a JSON-lines file, and a Skipped naming the line of each that cannot be read."""
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = _jsonl_record(line)
        except ValueError as error:
            yield Skipped(where, str(error))
            continue
        doc_id = record.get("id") or f"{file_id}-{number}"
        yield Draft(
            doc_id,
            tuple(_LINE_END.split(record["text"])),
            where,
            record.get("title") or doc_id,
            record.get("date"),
            record.get("url"),
            record.get("author"),
        )


def _jsonl_record(line: str) -> dict[str, str]:
    """The fields of one JSON line as non-empty strings (an integer id as its digits); ValueError says what is
    wrong."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"invalid JSON ({error.msg})") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise ValueError('each line must be an object with a "text" string')
    fields = {}
    for name in _JSONL_FIELDS:
        value = record.get(name)
        if name == "id" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is not None and not isinstance(value, str):
            raise ValueError(f'"{name}" must be a string, not {type(value).__name__}')
        if value and not value.isprintable() and not _encodes(value):
            raise ValueError(f'"{name}" holds a lone surrogate (\\ud800-\\udfff), not text')
        if value:
            fields[name] = value
    if "id" in fields and not usable_id(fields["id"]):
        raise ValueError(ID_RULE)
    fields.setdefault("text", "")
    return fields


def _encodes(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
                found.append(
                    Passage(
                        passage_id(document.id, len(found)),
                        document.id,
                        document.title,
                        text,
                        start,
                        end,
                        document.url,
                        document.date,
                        headings_within(document.headings, start, end),
                    )
                )
    return found


def _paragraph_spans(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for match in re.finditer(r"\n\n", text):
        yield start, match.start()
        start = match.end()
    yield start, len(text)


def _windows(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Cut [start, end) between sentences into windows of at most MAX_PASSAGE_CHARS; a longer sentence (text
    without sentence punctuation) is cut between words."""
    if end - start <= MAX_PASSAGE_CHARS:
        yield start, end
        return
    window_start = window_end = None
    for s, e in _pieces(text, start, end):
        if window_start is not None and e - window_start > MAX_PASSAGE_CHARS:
            yield window_start, window_end
            window_start = None
        if window_start is None:
            window_start = s
        window_end = e
    if window_start is not None:
        yield window_start, window_end


def _pieces(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The sentences of [start, end), each longer than MAX_PASSAGE_CHARS cut at the last space that keeps a piece
    within it (at the cap itself when a piece has no space)."""
    for s, e in sentence_spans(text[start:end]):
        s, e = s + start, e + start
        while e - s > MAX_PASSAGE_CHARS:
            cut = text.rfind(" ", s + 1, s + MAX_PASSAGE_CHARS + 1)
            cut = cut if cut > s else s + MAX_PASSAGE_CHARS
            yield s, len(text[s:cut].rstrip()) + s
            s = cut
            while s < e and text[s].isspace():
                s += 1
        if s < e:
            yield s, e
