"""The share of boilerplate passages on the test pages (tests/data/pages), counted mechanically from what the pages
mark: an element with data-planted="boilerplate" holds page furniture (menu, breadcrumb, share bar, related news,
comments, cookie notice, footer), the element with data-article="body" the article's own text.

    python tests/planted.py            # a table: passages, boilerplate-only, with boilerplate glued on, article kept

A passage is boilerplate when every line of it is made of planted text alone; it has boilerplate glued on when
some lines are and others are not. The article's pieces (paragraphs, list items, table cells, captions, headings
that are not planted) are kept when some passage holds them.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path

from lxml import html as lxml_html

PAGES = Path(__file__).parent / "data" / "pages"
_ARTICLE_PIECES = ("p", "li", "td", "th", "h2", "h3", "h4", "figcaption")


@dataclass(frozen=True)
class Count:
    page: str
    passages: int
    boilerplate: int  # passages of planted text alone
    glued: int  # passages with planted lines beside article lines
    pieces: int  # the article's pieces
    kept: int  # of them, those some passage holds


def one_line(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def planted(page: Path) -> list[str]:
    """The texts the page marks as boilerplate, longest first."""
    tree = lxml_html.fromstring(page.read_bytes())
    found = {one_line(t) for e in tree.xpath('//*[@data-planted="boilerplate"]') for t in e.itertext()}
    return sorted((t for t in found if t), key=len, reverse=True)


def article_pieces(page: Path, tags: tuple[str, ...] = _ARTICLE_PIECES) -> list[str]:
    """The article's own pieces of text in elements of these tags, planted ones left out, and the paragraphs of an
    article written as text cut by two <br> in a row (with "p" among the tags)."""
    tree = lxml_html.fromstring(page.read_bytes())
    pieces = []
    for body in tree.xpath('//*[@data-article="body"]'):
        for element in body.iter(*tags):
            if not element.xpath("ancestor-or-self::*[@data-planted]") and (text := one_line(element.text_content())):
                pieces.append(text)
        if "p" in tags and body.find("br") is not None:  # the text between its elements, cut by <br>
            loose = deepcopy(body)
            for element in list(loose):
                if element.tag != "br":
                    element.drop_tree()  # its tail stays
            for line_break in loose.iter("br"):
                line_break.tail = "\n" + (line_break.tail or "")
            pieces += [text for run in loose.text_content().split("\n\n") if (text := one_line(run))]
    return pieces


def is_planted(line: str, strings: list[str]) -> bool:
    """Whether the line holds nothing but planted strings (and punctuation)."""
    for string in strings:
        line = line.replace(string, " ")
    return not re.search(r"\w", line)


def count(page: Path, passages: list[str]) -> Count:
    strings = planted(page)
    boilerplate = glued = 0
    for text in passages:
        lines = [one_line(line) for line in text.split("\n") if line.strip()]
        marked = [is_planted(line, strings) for line in lines]
        boilerplate += all(marked)
        glued += any(marked) and not all(marked)
    everything = one_line(" ".join(passages)).replace(" | ", " ")
    pieces = article_pieces(page)
    return Count(
        page.name, len(passages), boilerplate, glued, len(pieces), sum(one_line(p) in everything for p in pieces)
    )


def count_pages(read_passages) -> list[Count]:
    """A Count for every test page, from read_passages(path) -> the texts of its passages."""
    return [count(page, read_passages(page)) for page in sorted(PAGES.glob("*.html"))]


def main() -> None:
    from qa import corpus

    def read_passages(path: Path) -> list[str]:
        return [
            p.text for d in corpus.read_documents([path]) if isinstance(d, corpus.Document) for p in corpus.passages(d)
        ]

    counts = count_pages(read_passages)
    print(f"reader: {corpus.__file__}")
    print(f"{'page':<18}{'passages':>9}{'boilerplate':>12}{'glued on':>9}{'article kept':>14}")
    for c in counts:
        print(f"{c.page:<18}{c.passages:>9}{c.boilerplate:>12}{c.glued:>9}{f'{c.kept}/{c.pieces}':>14}")
    total = sum(c.passages for c in counts)
    print(
        f"{'all':<18}{total:>9}{sum(c.boilerplate for c in counts):>12}{sum(c.glued for c in counts):>9}"
        f"{f'{sum(c.kept for c in counts)}/{sum(c.pieces for c in counts)}':>14}"
    )
    print(
        f"boilerplate share: {sum(c.boilerplate for c in counts) / total:.3f}, with glued-on passages: "
        f"{sum(c.boilerplate + c.glued for c in counts) / total:.3f}"
    )


if __name__ == "__main__":
    sys.exit(main())
