"""A news page's article as its reader sees it: trafilatura finds the main content and the page's metadata."""

from __future__ import annotations

import re
from copy import deepcopy

from .blocks import CELL_SEPARATOR, Article, Block, heading_lines, paragraphs

# The lead (sapo) that Vietnamese news pages set apart above the article's body: trafilatura often leaves it out.
_LEAD_CLASS = re.compile(r"(?:^|[\s_-])(?:sapo|summary|description|lead)(?:$|[\s_-])", re.IGNORECASE)
LEAD_MIN_WORDS = 8  # fewer is a label, not a lead
_SENTENCE_END = re.compile(r"[.!?…]$")


def read_page(html: str) -> Article:
    """The article of a page (its lead, paragraphs, headings, lists, tables and captions) and the page's title,
    date, author and canonical url; no paragraphs when the page has no article text."""
    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None:  # trafilatura takes a fragment inside an element
        tree = load_html(f"<div>{html}</div>")
    if tree is None:
        return Article([])
    lead = _lead(tree)
    found = _extract(deepcopy(tree), with_metadata=True)  # trafilatura changes the tree it reads
    if found is None or found.body is None:
        return Article([])
    if (container := _missed_container(tree, found.body)) is not None:
        framed = _extract(_framed(container), with_metadata=False)
        if framed is not None and framed.body is not None and _holds(framed.body, _inside(container, found.body)):
            found.body = framed.body
    title = _one_line(found.title or "") or None
    blocks = [b for b in map(_block, found.body) if b.lines and not (b.heading and b.lines == (title,))]
    shown = " ".join(line for block in blocks for line in block.lines)
    if lead and lead not in shown:
        blocks.insert(0, Block((lead,)))
    date = found.date.removesuffix("T00:00") if found.date else None  # no time on the page: the day alone
    return Article(paragraphs(blocks), title, date, found.author or None, found.url or None, heading_lines(blocks))


def _extract(tree, with_metadata: bool):
    """trafilatura's reading of the tree: the article's body (and the page's metadata, when asked), or None."""
    from trafilatura import bare_extraction  # imported here: it takes 0.2 s, and only a build that reads HTML needs it

    return bare_extraction(
        tree,
        include_tables=True,
        include_images=True,
        include_formatting=True,
        favor_precision=True,
        with_metadata=with_metadata,
        date_extraction_params={"outputformat": "%Y-%m-%dT%H:%M", "original_date": True},
    )


def _missed_container(tree, body):
    """The page's element that holds most of the text trafilatura found, when trafilatura read it without knowing it
    as the article's container, else None.

    trafilatura finds the article's container by its class or id (article-content, post-body, ...); on a page whose
    container it does not know, it falls back to recovering the page's paragraphs, quotes and tables one by one, so
    the article's headings and lists are lost (trafilatura issue 354). That is seen in its output: no heading and no
    list, while the container holds some that it left out."""
    if body.find("head") is not None or body.find("list") is not None:
        return None
    found = {_squashed("".join(element.itertext())) for element in body}
    votes: dict = {}  # element -> characters of found text among its children
    for element in tree.iter("*"):
        parent = element.getparent()
        if parent is not None and (text := _squashed(element.text_content())) in found:
            votes[parent] = votes.get(parent, 0) + len(text)
    if not votes:
        return None
    container = max(votes, key=votes.get)
    shown = "\n".join(found)
    left_out = (
        text
        for element in container.iter("h2", "h3", "h4", "h5", "h6", "li")
        if (text := _squashed(element.text_content()))
    )
    return container if any(text not in shown for text in left_out) else None


def _framed(container):
    """A page of the container alone, inside an <article> element: trafilatura's frame for the article's body."""
    from lxml import html as lxml_html

    page = lxml_html.fromstring("<html><body><article></article></body></html>")
    page.find(".//article").extend(deepcopy(list(container)))
    page.find(".//article").text = container.text
    return page


def _inside(container, body) -> list[str]:
    """The texts of trafilatura's blocks that come from within the container."""
    within = _squashed(container.text_content())
    return [text for element in body if (text := _squashed("".join(element.itertext()))) in within]


def _holds(body, texts: list[str]) -> bool:
    """Whether trafilatura's body holds every one of the texts."""
    shown = "\n".join(_squashed("".join(element.itertext())) for element in body)
    return all(text in shown for text in texts)


def _squashed(text: str) -> str:
    """The text without its white space: the page and trafilatura's output space table cells differently."""
    return "".join(text.split())


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
