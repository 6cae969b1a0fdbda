"""What the HTML and Markdown readers give: an article's blocks, made into paragraphs the way a reader sees them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

CELL_SEPARATOR = " | "  # between the cells of a table's row, which is one line


@dataclass(frozen=True)
class Block:
    """A heading, or a paragraph, list, quote or table as its lines (a list's items, a table's rows)."""

    lines: tuple[str, ...]
    heading: bool = False


@dataclass(frozen=True)
class Article:
    """An HTML or Markdown document as read: its paragraphs and the metadata it gives."""

    paragraphs: list[str]
    title: str | None = None
    date: str | None = None  # ISO 8601
    author: str | None = None
    url: str | None = None
    headings: tuple[str, ...] = ()  # the lines of its paragraphs that are headings


def heading_lines(blocks: Iterable[Block]) -> tuple[str, ...]:
    """The lines of the blocks that are headings: what an answer's sentence is not, when a line of text matches."""
    return tuple(line for block in blocks if block.heading for line in block.lines)


def paragraphs(blocks: Iterable[Block]) -> list[str]:
    """The blocks as paragraphs, lines kept apart: a heading, or a block that ends with a colon, opens the block that
    follows it, on a line of its own (a sentence of its own, never glued to the text it introduces, and never a
    passage too short to answer)."""
    found: list[str] = []
    pending: list[str] = []
    for block in blocks:
        pending += block.lines
        if not block.heading and pending and not pending[-1].endswith(":"):
            found.append("\n".join(pending))
            pending = []
    if pending:
        found.append("\n".join(pending))
    return found
