"""A news page's article as its reader sees it: trafilatura finds the main content and the page's metadata."""

from __future__ import annotations

import re

from .blocks import CELL_SEPARATOR, Article, Block, paragraphs

# The lead (sapo) that Vietnamese news pages set apart above the article's body: trafilatura often leaves it out.
_LEAD_CLASS = re.compile(r"(?:^|[\s_-])(?:sapo|summary|description|lead)(?:$|[\s_-])", re.IGNORECASE)
LEAD_MIN_WORDS = 8  # fewer is a label, not a lead
_SENTENCE_END = re.compile(r"[.!?…]$")


def read_page(html: str) -> Article:
    """The article of a page (its lead, paragraphs, headings, lists, tables and captions) and the page's title,
    date, author and canonical url; no paragraphs when the page has no article text."""
    from trafilatura import bare_extraction  # imported here: it takes 0.2 s, and only a build that reads HTML needs it
    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None:  # trafilatura takes a fragment inside an element
        tree = load_html(f"<div>{html}</div>")
    if tree is None:
        return Article([])
    lead = _lead(tree)
    found = bare_extraction(
        tree,
        include_tables=True,
        include_images=True,
        include_formatting=True,
        favor_precision=True,
        with_metadata=True,
        date_extraction_params={"outputformat": "%Y-%m-%dT%H:%M", "original_date": True},
    )
    if found is None or found.body is None:
        return Article([])
    title = _one_line(found.title or "") or None
    blocks = [b for b in map(_block, found.body) if b.lines and not (b.heading and b.lines == (title,))]
    shown = " ".join(line for block in blocks for line in block.lines)
    if lead and lead not in shown:
        blocks.insert(0, Block((lead,)))
    date = found.date.removesuffix("T00:00") if found.date else None  # no time on the page: the day alone
    return Article(paragraphs(blocks), title, date, found.author or None, found.url or None)


def _lead(tree) -> str | None:
    """The text of the first element the page's classes mark as the article's lead, when it is more than a label."""
    for element in tree.xpath("//body//*[@class]"):
        if _LEAD_CLASS.search(element.get("class")):
            text = _one_line(" ".join(element.itertext()))
            if len(text.split()) >= LEAD_MIN_WORDS:
                return text
    return None


def _block(element) -> Block:
    """One element of trafilatura's output as a block: a heading, or lines (a list's items, a table's rows)."""
    if element.tag == "head":
        text = _one_line("".join(element.itertext()))
        # A lead set in a heading tag ends as sentences do: it is a paragraph, not a heading.
        return Block((text,) if text else (), heading=not _SENTENCE_END.search(text))
    if element.tag == "list":
        return Block(tuple(line for item in element.iter("item") if (line := _item_text(item))))
    if element.tag == "table":
        rows = (
            CELL_SEPARATOR.join(t for cell in row.iter("cell") if (t := _one_line("".join(cell.itertext()))))
            for row in element.iter("row")
        )
        return Block(tuple(row for row in rows if row))
    if element.tag == "graphic":
        return Block(())
    if _all_bold(element):  # a paragraph in bold, as many pages set their subheadings
        return Block((_one_line("".join(element.itertext())),), heading=True)
    for line_break in element.iter("lb"):  # <br> in the page: a new line
        line_break.tail = "\n" + (line_break.tail or "")
    for inner in element.iterdescendants("p"):  # a quote's paragraphs: a line each
        inner.text, inner.tail = "\n" + (inner.text or ""), "\n" + (inner.tail or "")
    return Block(tuple(line for line in map(_one_line, "".join(element.itertext()).split("\n")) if line))


def _all_bold(element) -> bool:
    """Whether the element's only text is one bold run."""
    children = list(element)
    if element.tag != "p" or len(children) != 1:
        return False
    [run] = children
    return (
        run.tag == "hi"
        and "#b" in run.get("rend", "")
        and not len(run)
        and not (element.text or "").strip()
        and not (run.tail or "").strip()
    )


def _item_text(item) -> str:
    """A list item's own text, without its nested list (whose items are lines of their own)."""
    parts = [item.text or ""]
    for child in item:
        if child.tag != "list":
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    return _one_line("".join(parts))


def _one_line(text: str) -> str:
    return " ".join(text.split())
