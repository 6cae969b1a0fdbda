"""Limits on which documents may answer: a period (--since, --until) and one document (--doc)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np

from .search import QuestionError
from .store import Index

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadFilter(QuestionError):
    code = "bad_filter"


@dataclass(frozen=True)
class Filters:
    """Which documents may answer: dated from since to until (both included; a document with no date is left out
    when either is given), and the one document doc_id."""

    since: date | None = None
    until: date | None = None
    doc_id: str | None = None

    @classmethod
    def parse(cls, since: object = None, until: object = None, doc_id: object = None) -> "Filters":
        """Filters from what a person typed (dates as YYYY-MM-DD), or a BadFilter that says what is wrong; a blank
        one (a form's empty field, "?doc_id=") limits nothing."""
        if doc_id is not None and not isinstance(doc_id, str):
            raise BadFilter("doc_id must be a document id (qa index list shows them)")
        filters = cls(_day(since, "since"), _day(until, "until"), doc_id.strip() or None if doc_id else None)
        if filters.since and filters.until and filters.since > filters.until:
            raise BadFilter(f"since ({filters.since}) is after until ({filters.until})")
        return filters

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.doc_id)

    def passages(self, index: Index) -> np.ndarray:
        """bool per passage of the index: whether its document may answer, or a BadFilter naming a doc_id it lacks."""
        if not isinstance(index, Index):
            raise BadFilter("--since, --until and --doc do not work on a sharded collection yet")
        allowed = ~index.deleted
        if self.doc_id is not None and self.doc_id not in index.document_numbers:  # a typo, not "nothing answers"
            raise BadFilter(f"no document {self.doc_id!r} in this collection (qa index list shows them)")
        if self.doc_id is not None:
            allowed &= np.arange(len(index.documents)) == index.document_numbers[self.doc_id]
        if self.since or self.until:
            days = np.array([_day_number(d.get("date")) for d in index.documents], dtype=np.int64)
            allowed &= days >= 0
            if self.since:
                allowed &= days >= self.since.toordinal()
            if self.until:
                allowed &= days <= self.until.toordinal()
        return allowed[index.passage_doc]


def _day(value: object, name: str) -> date | None:
    if value is None or isinstance(value, str) and not value.strip():
        return None
    if not isinstance(value, str) or not _DAY.fullmatch(value.strip()):
        raise BadFilter(f"{name} must be a date written YYYY-MM-DD, as 2023-01-31")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise BadFilter(f"{name} is not a real date: {value.strip()}") from None


def _day_number(value: object) -> int:
    """The day a document is dated (its date's first ten characters, YYYY-MM-DD), -1 when it has none."""
    if not isinstance(value, str) or not _DAY.match(value):
        return -1
    try:
        return date.fromisoformat(value[:10]).toordinal()
    except ValueError:
        return -1
