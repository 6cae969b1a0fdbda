"""A news page's article as its reader sees it: trafilatura finds the main content and the page's metadata."""

from __future__ import annotations

import re
from copy import deepcopy
from datetime import datetime, timedelta, timezone

from .blocks import CELL_SEPARATOR, Article, Block, heading_lines, paragraphs

# The lead (sapo) that Vietnamese news pages set apart above the article's body: trafilatura often leaves it out.
_LEAD_CLASS = re.compile(r"(?:^|[\s_-])(?:sapo|summary|description|lead)(?:$|[\s_-])", re.IGNORECASE)
LEAD_MIN_WORDS = 8  # fewer is a label, not a lead
_SENTENCE_END = re.compile(r"[.!?…]$")
# The time a live page stamps an entry with, in an element of its own: "14:30", "14h30", "7/9 14:30", "14:30 7/9/2024".
_ENTRY_TIME = re.compile(
    r"(?:\d{1,2}/\d{1,2}(?:/\d{4})?[\s,-]*)?\d{1,2}[:h]\d{2}(?:[\s,-]*\d{1,2}/\d{1,2}(?:/\d{4})?)?"
)
MIN_TIMED_ENTRIES = 2  # one time before a paragraph is the page's date line, not a live page's entries
_BLOCK_TAGS = frozenset({"p", "head", "list", "table", "quote", "code", "graphic", "div"})  # trafilatura's, and div
_PARAGRAPH_BREAK = "\u2029"  # Unicode PARAGRAPH SEPARATOR: where two <br> in a row end a paragraph
VIETNAM_TIME = timezone(timedelta(hours=7))  # what a page's date is given in, when the page says its time zone
_DATE_FORMAT = "%Y-%m-%dT%H:%M"


def read_page(html: str) -> Article:
    """The article of a page (its lead, paragraphs, headings, lists, tables and captions) and the page's title,
    date, author and canonical url; no paragraphs when the page has no article text."""
    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None:  # trafilatura takes a fragment inside an element
        tree = load_html(f"<div>{html}</div>")
    if tree is None:
        return Article([])
    _mark_layout_tables(tree)
    _captions_as_paragraphs(tree)
    lead = _lead(tree)
    found = _extract(deepcopy(tree), with_metadata=True)  # trafilatura changes the tree it reads
    if found is None or found.body is None:
        return Article([])
    sources = _by_text(tree)
    if (container := _missed_container(sources, found.body)) is not None:
        framed = _extract(_framed(container), with_metadata=False)
        if framed is not None and framed.body is not None:
            found.body = _merged(framed.body, found.body, tree, sources)
    title = _one_line(found.title or "") or None
    blocks = [
        block
        for block in _blocks(found.body, _entry_times(found.body, sources))
        if block.lines and not (block.heading and block.lines == (title,))
    ]
    shown = " ".join(line for block in blocks for line in block.lines)
    if lead and lead not in shown:
        blocks.insert(0, Block((lead,)))
    date, author, url = _local_date(found.date), found.author or None, found.url or None
    return Article(paragraphs(blocks), title, date, author, url, heading_lines(blocks))


def _extract(tree, with_metadata: bool):
    """trafilatura's reading of the tree: the article's body (and the page's metadata, when asked), or None."""
    from trafilatura import bare_extraction  # imported here: it takes 0.2 s, and only a build that reads HTML needs it

    found = bare_extraction(
        tree,
        include_tables=True,
        include_images=True,
        include_formatting=True,
        favor_precision=True,
        with_metadata=with_metadata,
        date_extraction_params={"outputformat": _DATE_FORMAT + "%z", "original_date": True},
    )
    if found is not None and found.body is not None:
        _unwrap_containers(found.body)
    return found


def _local_date(date: str | None) -> str | None:
    """The page's date (from trafilatura, with the time zone the page gives) in ISO 8601 to the minute, in Vietnam
    time when the page says its zone (a date in UTC, "…Z", as pages made by JavaScript give it, is 7 hours behind
    what the page shows); the day alone when the page gives no time."""
    if not date:
        return None
    try:
        date = datetime.strptime(date, _DATE_FORMAT + "%z").astimezone(VIETNAM_TIME).strftime(_DATE_FORMAT)
    except ValueError:  # no time zone
        pass
    return date.removesuffix("T00:00")


def _unwrap_containers(body) -> None:
    """Take out the divs around blocks that trafilatura's fallback extractors (readability, jusText) leave in its
    output, their loose text made paragraphs: the blocks are then the body's children, as trafilatura's own are."""
    from lxml.etree import strip_tags
    from lxml.html import Element

    for div in reversed(list(body.iter("div"))):  # the innermost first
        if not any(child.tag in _BLOCK_TAGS for child in div):
            continue  # a div of text alone is a paragraph
        loose = [(div, div.text)] + [(child, child.tail) for child in div]
        div.text = None
        for before, text in reversed(loose):
            if text and text.strip():
                paragraph = Element("p")
                paragraph.text = text
                if before is div:
                    div.insert(0, paragraph)
                else:
                    before.tail = None
                    before.addnext(paragraph)
        div.tag = "unwrapped"
    strip_tags(body, "unwrapped")


def _mark_layout_tables(tree) -> None:
    """Mark the tables that lay a page out (role="presentation", which trafilatura reads as no table): those with a
    table in them and no header cells, caption or thead, as browsers tell layout tables from data tables. Read as a
    data table, a page laid out in a table is one table: its menu, article and footer glued into one passage."""
    for table in tree.iter("table"):
        if table.find(".//table") is not None and not table.xpath("./caption|./thead|./tr/th|./tbody/tr/th"):
            table.set("role", "presentation")


def _captions_as_paragraphs(tree) -> None:
    """Put the bare text of a caption (<figcaption>Text</figcaption>, as AMP pages write it) in a paragraph:
    trafilatura keeps a caption's paragraphs and drops its bare text."""
    from lxml.html import Element

    for caption in tree.iter("figcaption"):
        if caption.find(".//p") is None and caption.text_content().strip():
            paragraph = Element("p")
            paragraph.text, caption.text = caption.text, None
            paragraph.extend(list(caption))
            caption.append(paragraph)


def _by_text(tree) -> dict:
    """The page's elements by their text (without white space), the first (outermost) of those with the same."""
    found: dict = {}
    for element in tree.iter("*"):
        if text := _squashed(element.text_content()):
            found.setdefault(text, element)
    return found


def _missed_container(sources: dict, body):
    """The page's element that holds most of the text trafilatura found, when trafilatura read it without knowing it
    as the article's container, else None.

    trafilatura finds the article's container by its class or id (article-content, post-body, ...); on a page whose
    container it does not know, it falls back to recovering the page's paragraphs, quotes and tables one by one, so
    the article's headings and lists are lost (trafilatura issue 354). That is seen in its output: no heading and no
    list, while the container holds some that it left out."""
    if body.find("head") is not None or body.find("list") is not None:
        return None
    found = {_block_key(element) for element in body}
    votes: dict = {}  # element -> characters of found text among its children
    for text in found:
        if (element := sources.get(text)) is not None and (parent := element.getparent()) is not None:
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


def _merged(framed, first, tree, sources: dict):
    """The blocks of the container's reading and those of the first reading that it lacks (found outside the
    container), in the page's order: the container's headings and lists are added, and nothing first found is lost."""
    from lxml.html import Element

    shown = "\n".join(_block_key(element) for element in framed)
    lacking = [element for element in first if _block_key(element) not in shown]
    if not lacking:
        return framed
    order = {element: number for number, element in enumerate(tree.iter())}
    placed, at = [], -1
    for element in [*framed, *lacking]:  # a block not found in the page stays after the one before it
        source = sources.get(_block_key(element))
        at = order[source] if source is not None else at
        placed.append((at, element))
    body = Element("body")
    body.extend(element for _, element in sorted(placed, key=lambda pair: pair[0]))
    return body


def _squashed(text: str) -> str:
    """The text without its white space: the page and trafilatura's output space table cells differently."""
    return "".join(text.split())


def _block_key(element) -> str:
    """The text of one of trafilatura's blocks without its white space, as _by_text knows the page's elements."""
    return _squashed("".join(element.itertext()))


def _entry_times(body, sources: dict) -> dict:
    """On a live page, the time of the entry each of trafilatura's blocks begins: a time in an element of its own, the
    text just before the block in the page (at least MIN_TIMED_ENTRIES of them)."""
    times = {}
    for element in body:
        source = sources.get(_block_key(element))
        before = source.xpath("preceding::text()[normalize-space()][1]") if source is not None else []
        if before and _ENTRY_TIME.fullmatch(time := _one_line(before[0])):
            times[element] = time
    return times if len(times) >= MIN_TIMED_ENTRIES else {}


def _blocks(body, times: dict):
    """trafilatura's blocks, each entry of a live page opened by its time, on a line of its own (as a heading)."""
    for element in body:
        if element in times:
            yield Block((times[element],), heading=True)
        yield from _element_blocks(element)


def _lead(tree) -> str | None:
    """The text of the first element the page's classes mark as the article's lead, when it is more than a label."""
    for element in tree.xpath("//body//*[@class]"):
        if _LEAD_CLASS.search(element.get("class")):
            text = _one_line(" ".join(element.itertext()))
            if len(text.split()) >= LEAD_MIN_WORDS:
                return text
    return None


def _element_blocks(element) -> list[Block]:
    """One element of trafilatura's output as blocks: a heading, or lines (a list's items, a table's rows), or the
    paragraphs of a text whose lines are cut by <br> and its paragraphs by two."""
    if element.tag == "head":
        return [_heading(_one_line("".join(element.itertext())))]
    if element.tag == "list":
        return [Block(tuple(line for item in element.iter("item") if (line := _item_text(item))))]
    if element.tag == "table":
        rows = (
            CELL_SEPARATOR.join(t for cell in row.iter("cell") if (t := _one_line("".join(cell.itertext()))))
            for row in element.iter("row")
        )
        return [Block(tuple(row for row in rows if row))]
    if element.tag == "graphic":
        return []
    if _all_bold(element):  # a paragraph in bold, as many pages set their subheadings (and some their lead)
        return [_heading(_one_line("".join(element.itertext())))]
    for line_break in element.iter("lb"):  # <br> in the page: a new line; two in a row, a new paragraph
        following = line_break.getnext()
        ends = following is not None and following.tag == "lb" and not (line_break.tail or "").strip()
        line_break.tail = (_PARAGRAPH_BREAK if ends else "\n") + (line_break.tail or "")
    for inner in element.iterdescendants("p"):  # a quote's paragraphs: a line each
        inner.text, inner.tail = "\n" + (inner.text or ""), "\n" + (inner.tail or "")
    return [
        Block(tuple(line for line in map(_one_line, paragraph.split("\n")) if line))
        for paragraph in "".join(element.itertext()).split(_PARAGRAPH_BREAK)
    ]


def _heading(text: str) -> Block:
    """A heading's text as a block: a heading, unless it ends as sentences do (a lead set in a heading tag or in
    bold), then a paragraph."""
    return Block((text,) if text else (), heading=not _SENTENCE_END.search(text))


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
