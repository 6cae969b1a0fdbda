"""A Markdown document by its structure: headings, paragraphs, list items, quotes and table rows, and the title,
date, author and url of its front matter."""

from __future__ import annotations

import re
from functools import cache

from .blocks import CELL_SEPARATOR, Article, Block, heading_lines, paragraphs

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_FIELD = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?")
_CONTAINERS = {"bullet_list_open", "ordered_list_open", "blockquote_open", "table_open"}


@cache
def _parser():
    """CommonMark with tables; imported on first use, as only a build that reads Markdown needs it."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def read_markdown(text: str) -> Article:
    """The document's paragraphs (a heading opening the block after it) and its front matter's metadata; the
    title is the front matter's, else the heading the document opens with."""
    fields, text = front_matter(text)
    blocks = _blocks(text)
    title = fields.get("title")
    if blocks and blocks[0].heading and title in (None, blocks[0].lines[0]):
        title, blocks = blocks[0].lines[0], blocks[1:]
    return Article(
        paragraphs(blocks),
        title,
        _iso_date(fields.get("date")),
        fields.get("author"),
        fields.get("url"),
        heading_lines(blocks),
    )


def front_matter(text: str) -> tuple[dict[str, str], str]:
    """The `key: value` lines of a leading `---` block (lowercased keys, quotes taken off) and the text after it."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    fields = {}
    for line in match.group(1).split("\n"):
        field = _FIELD.match(line)
        if field and field.group(2):
            fields[field.group(1).lower()] = re.sub(r"^([\"'])(.*)\1$", r"\2", field.group(2))
    return fields, text[match.end() :]


def _iso_date(value: str | None) -> str | None:
    """An ISO date (with its time to the minute when given); any other form as written."""
    match = _ISO_DATE.match(value or "")
    if not match:
        return value
    year, month, day, hour, minute = match.groups()
    return f"{year}-{month}-{day}" + (f"T{hour}:{minute}" if hour else "")


def _blocks(text: str) -> list[Block]:
    """The top-level blocks of the document: a list, quote or table is one block, its items or rows its lines."""
    blocks: list[Block] = []
    lines: list[str] = []
    row: list[str] = []
    inside: str | None = None  # the container being read
    heading = False
    for token in _parser().parse(text):
        if token.level == 0 and token.type in _CONTAINERS:
            inside = token.type.replace("_open", "_close")
        elif token.level == 0 and token.type == inside:
            blocks.append(Block(tuple(lines)))
            lines, inside = [], None
        elif token.type == "heading_open" and inside is None:
            heading = True
        elif token.type == "inline":
            pieces = _inline_lines(token)
            if inside == "table_close":
                row += pieces
            elif inside:
                lines += pieces
            else:
                blocks.append(Block(tuple(pieces), heading=heading))
                heading = False
        elif token.type == "tr_close":
            lines.append(CELL_SEPARATOR.join(cell for cell in row if cell))
            row = []
        elif token.type in ("fence", "code_block"):
            code = [line.strip() for line in token.content.split("\n") if line.strip()]
            if inside:
                lines += code
            else:
                blocks.append(Block(tuple(code)))
    return [block for block in blocks if block.lines]


def _inline_lines(token) -> list[str]:
    """The words of an inline run (link text kept, images and raw HTML left out), a line per hard break."""
    lines = [""]
    for child in token.children or []:
        if child.type == "hardbreak":
            lines.append("")
        elif child.type == "softbreak":
            lines[-1] += " "
        elif child.type in ("text", "code_inline"):
            lines[-1] += child.content
    return [line for line in (" ".join(line.split()) for line in lines) if line]
