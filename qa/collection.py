"""Changing a collection while it serves: documents added in a new segment, replaced or removed through a segment's
deletion mask, and segments merged when they pile up (qa index add | remove | optimize). A change holds the
collection's write lock, writes new files only, and switches the manifest once; a reader sees the collection
before the change or after it, never half of it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from . import corpus, store
from .bm25 import Segment
from .corpus import Skipped
from .index import (
    Bags,
    Chunked,
    analysed_rows,
    chunk,
    document_drafts,
    draft_key,
    segment_analysis,
    text_key,
    write_segment,
)
from .settings import MAX_SEGMENTS
from .store import DRAFTS, Index, IndexFileError

log = logging.getLogger(__name__)


class NotAdded(ValueError):
    """Documents not added because some of what was sent could not be read (an all-or-nothing add): the message
    names each problem."""


class NoSuchDocument(KeyError):
    """A document id the collection does not hold: the message names it."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class ChangeReport:
    """What a change did: ids added (new), replaced, removed or left as they were, files skipped, and passages."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    passages: int = 0  # passages written
    merged: int = 0  # segments merged into one
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.removed or self.merged)


def add(
    sources: Sequence[Path],
    out: Path,
    max_file_size: int = corpus.MAX_FILE_SIZE,
    waiting: store.Waiting | None = None,
    all_or_nothing: bool = False,
    wait_seconds: float = store.WAIT_SECONDS,
    only: Callable[[str], bool] | None = None,
) -> ChangeReport:
    """Add the documents of the sources to the collection in out (made when there is none), in a new segment; a
    document whose id the collection holds replaces it, unless it reads exactly as before. With all_or_nothing,
    NotAdded (changing nothing) when a file, line or document is skipped; only, when given, says which ids to take
    (a shard's)."""
    started = time.perf_counter()
    report = ChangeReport()
    with store.writing(out, waiting, wait_seconds):
        previous = _open(out)
        live = previous.document_numbers if previous else {}
        drafts = document_drafts(previous) if previous else np.zeros(0, np.uint64)
        documents: list[Chunked] = []
        for item in corpus.read_drafts(sources, max_file_size):
            if isinstance(item, Skipped):
                report.skipped.append(item)
                continue
            if only is not None and not only(item.id):
                continue
            key = draft_key(item)
            number = live.get(item.id)
            if number is not None and drafts[number] == key:
                report.unchanged.append(item.id)
                continue
            document = item.clean()
            if not document.text:
                report.skipped.append(Skipped(item.source, "no article text"))
                continue
            documents.append(chunk(document, key))
            (report.added if number is None else report.replaced).append(item.id)
        if all_or_nothing and (report.skipped or not (documents or report.unchanged)):
            raise refusal(report.skipped)
        if not documents:
            return report
        with store.change(out) as change:
            segments, deleted = _with_deletions(change, previous, [live[i] for i in report.replaced])
            segments.append(write_segment(change, documents, workers=1))
            report.passages = segments[-1]["passages"]
            segments, report.merged = _merged_when_many(change, previous, segments, deleted)
            change.commit(segments, _info(previous, sources))
    report.seconds = time.perf_counter() - started
    return report


def refusal(skipped: Sequence[Skipped]) -> NotAdded:
    """Why an all-or-nothing add added nothing: each file, line or document skipped, or that none was sent."""
    problems = [f"{s.source}: {s.reason}" for s in skipped] or ["no document in what was sent"]
    return NotAdded("nothing was added: " + "; ".join(problems))


def remove(
    doc_ids: Sequence[str], out: Path, waiting: store.Waiting | None = None, wait_seconds: float = store.WAIT_SECONDS
) -> ChangeReport:
    """Remove documents from the collection in out by id; NoSuchDocument (changing nothing) when one is not there."""
    started = time.perf_counter()
    with store.writing(out, waiting, wait_seconds):
        previous = store.load(out, whole=False)  # a deletion mask is written: the postings are read in slices
        live = previous.document_numbers
        unknown = [i for i in dict.fromkeys(doc_ids) if i not in live]
        if unknown:
            raise NoSuchDocument(
                f"no document {', '.join(map(repr, unknown))} in {out}; nothing was removed "
                f"(qa index list --index {out} lists the ids)"
            )
        removed = list(dict.fromkeys(doc_ids))
        with store.change(out) as change:
            segments, _ = _with_deletions(change, previous, [live[i] for i in removed])
            change.commit(segments, _info(previous, ()))
    return ChangeReport(removed=removed, seconds=time.perf_counter() - started)


def optimize(out: Path, waiting: store.Waiting | None = None) -> ChangeReport:
    """Merge every segment of the collection in out into one, leaving the deleted documents out for good."""
    started = time.perf_counter()
    with store.writing(out, waiting):
        previous = store.load(out, checksums=True)  # every file is read and copied: all checked
        report = ChangeReport()
        if len(previous.segments) > 1 or previous.deleted.any():
            with store.change(out) as change:
                merged = merge(change, previous, list(range(len(previous.segments))))
                report.passages, report.merged = merged["passages"], len(previous.segments)
                change.commit([merged], _info(previous, ()))
    report.seconds = time.perf_counter() - started
    return report


def _open(out: Path) -> Index | None:
    """The collection in out as a change reads it (store.load's whole=False), or None when there is none yet (a
    damaged one is an IndexFileError: not replaced)."""
    if store.any_manifest(out) is None and not (out / store.MANIFEST).exists():
        return None
    return store.load(out, whole=False)


def _info(previous: Index | None, sources: Sequence[Path]) -> dict:
    """What the manifest keeps of the collection's history: the sources it was read from (shown in messages, never
    read again)."""
    recorded = (previous.manifest.get("sources") or []) if previous is not None else []
    return {"sources": list(dict.fromkeys(recorded + [str(Path(s).resolve()) for s in sources]))}


def _with_deletions(
    change: store.Change, previous: Index | None, numbers: list[int]
) -> tuple[list[dict], dict[int, np.ndarray]]:
    """The manifest entries of the collection's segments, those holding documents numbered in numbers (of the whole
    collection) with them deleted too; and, by segment, the new deletion masks (bool per document)."""
    if previous is None:
        return [], {}
    entries = [dict(entry) for entry in previous.manifest["segments"]]
    masks = {}
    offsets = previous.document_offsets
    for s, segment in enumerate(previous.segments):
        local = sorted(n - int(offsets[s]) for n in numbers if offsets[s] <= n < offsets[s + 1])
        if not local:
            continue
        masks[s] = segment.deleted_documents.copy()
        masks[s][local] = True
        counts = (
            segment.deleted_df.astype(np.int64)
            if segment.deleted_df is not None
            else np.zeros(len(segment.postings.keys), np.int64)
        )
        counts += _doc_freq_of(previous, s, local)
        entries[s] = change.deletions(entries[s], np.flatnonzero(masks[s]).astype(np.int32), counts)
    return entries, masks


def _doc_freq_of(previous: Index, s: int, documents: list[int]) -> np.ndarray:
    """Per term of segment s, how many passages of these documents (numbers in the segment) hold it: counted in the
    postings of the terms the segment's saved analysis gives their texts and titles (a few slices of its files, never
    every posting). Those postings must add up to the passages' lengths, else IndexFileError: no term was missed."""
    postings = previous.segments[s].postings
    held = np.zeros(len(postings.keys), np.int64)
    for local in documents:
        number = int(previous.document_offsets[s]) + local
        texts = [p.text for p in previous.document_passages(number)] + [previous.documents[number]["title"]]
        first, last = (n - int(previous.passage_offsets[s]) for n in previous.document_range(number))
        counted, in_order = 0.0, True  # the terms' occurrences in the document's passages; offsets in order
        for row in analysed_rows(previous, s, texts):
            lo, hi = postings.indptr[row : row + 2].tolist()
            in_order &= 0 <= lo <= hi
            start, end = (lo + np.searchsorted(postings.passage[lo:hi], [first, last])).tolist()
            held[row] += end - start
            counted += float(postings.tf[start:end].sum(dtype=np.float64))
        if not in_order or counted != float(postings.lengths[first:last].sum(dtype=np.float64)):
            raise IndexFileError(
                f"the saved analysis of {previous.manifest['segments'][s]['name']} in {previous.directory} does not "
                f"give every term of {previous.documents[number]['id']!r}; "
                f"{store.how_to_rebuild(previous.directory, previous.manifest)}"
            )
    return held


def _merged_when_many(
    change: store.Change, previous: Index | None, entries: list[dict], deleted: dict[int, np.ndarray]
) -> tuple[list[dict], int]:
    """The segments to commit: as given, or, past MAX_SEGMENTS, all but the largest of the previous ones merged into
    one (the new segment stays as written); and how many were merged. deleted: masks changed in this change."""
    if len(entries) <= MAX_SEGMENTS or previous is None:
        return entries, 0
    old = entries[:-1]
    largest = max(range(len(old)), key=lambda s: old[s]["passages"])
    chosen = [s for s in range(len(old)) if s != largest]
    whole = store.load(previous.directory, checksums=True)  # the same version (the lock is held), every file checked
    return [old[largest], merge(change, whole, chosen, deleted), entries[-1]], len(chosen)


def merge(
    change: store.Change, previous: Index, chosen: list[int], deleted: dict[int, np.ndarray] | None = None
) -> dict:
    """Write the documents not deleted of the chosen segments of a collection as one new segment of the change;
    returns its manifest entry. deleted gives a segment's deletion mask when it changed in this change."""
    parts = [(s, previous.segments[s], (deleted or {}).get(s, previous.segments[s].deleted_documents)) for s in chosen]
    documents = [(s, d) for s, segment, deleted in parts for d in range(len(segment.documents)) if not deleted[d]]
    keys = np.unique(np.concatenate([segment.postings.keys for _, segment, _ in parts] + [np.zeros(0, np.uint64)]))
    rows, passages, counts, texts, folded, spans, passage_doc, n = [], [], [], [], [], [], [], 0
    for _, segment, deleted in parts:
        live = ~deleted[segment.passage_doc]
        renumbered = np.where(live, np.cumsum(live) - 1 + n, -1)
        postings = segment.postings
        term_rows = np.repeat(np.searchsorted(keys, postings.keys), np.diff(postings.indptr))
        kept = live[postings.passage]
        rows.append(term_rows[kept])
        passages.append(renumbered[postings.passage[kept]])
        counts.append(postings.tf[kept].astype(np.int64))
        for local in np.flatnonzero(live).tolist():
            texts.append(segment.texts[segment.text_offsets[local] : segment.text_offsets[local + 1]].tobytes())
            folded.append(segment.folded[segment.folded_offsets[local] : segment.folded_offsets[local + 1]].tobytes())
        spans.append(segment.spans[live])
        passage_doc.append(segment.passage_doc[live])
        n += int(live.sum())
    rows, passages, counts = (np.concatenate(a + [np.zeros(0, np.int64)]) for a in (rows, passages, counts))
    used = np.bincount(rows, minlength=len(keys)) > 0
    keys, rows = keys[used], (np.cumsum(used) - 1)[rows]
    merged = Segment.from_bags(keys, rows, passages, counts, n, previous.postings.k1, previous.postings.b)
    # Document numbers in the merged segment, in the order the documents keep.
    numbering = {(s, d): number for number, (s, d) in enumerate(documents)}
    new_doc = np.concatenate(
        [
            np.array([numbering[(s, d)] for d in doc.tolist()], dtype=np.int32)
            for (s, _, _), doc in zip(parts, passage_doc)
        ]
        + [np.zeros(0, np.int32)]
    )
    records = [previous.segments[s].documents[d] for s, d in documents]
    drafts = document_drafts(previous)
    draft_of = np.array([drafts[int(previous.document_offsets[s]) + d] for s, d in documents], dtype=np.uint64)
    analysis_keys, analysis = _merged_analysis(previous, chosen, keys, texts, records, new_doc)
    arrays = {
        "keys": merged.keys,
        "indptr": merged.indptr,
        "postings": merged.passage,
        "tf": merged.tf,
        "lengths": merged.lengths,
        "peaks": merged.peak,
        "passage_doc": new_doc,
        "spans": np.concatenate(spans + [np.zeros((0, 2), np.int64)]).astype(np.int64),
        "text_offsets": store.blob_offsets(texts),
        "folded_offsets": store.blob_offsets(folded),
        "analysis_texts": analysis_keys,
        "analysis_indptr": analysis.indptr,
        "analysis_terms": analysis.terms,
        "analysis_counts": analysis.counts,
        DRAFTS: draft_of,
    }
    log.info("merged %d segments into one of %d documents, %d passages", len(chosen), len(records), n)
    return change.segment(arrays, {"texts": b"".join(texts), "folded": b"".join(folded)}, records, merged.average)


def _merged_analysis(
    previous: Index,
    chosen: list[int],
    keys: np.ndarray,
    texts: list[bytes],
    records: list[dict],
    passage_doc: np.ndarray,
) -> tuple[np.ndarray, Bags]:
    """The saved analysis of the texts a merged segment holds (its passages and their titles), as rows of its keys."""
    directory, manifest = previous.directory, previous.manifest
    saved_keys, bags = zip(*(segment_analysis(directory, manifest, manifest["segments"][s]) for s in chosen))
    every = np.concatenate(list(saved_keys) + [np.zeros(0, np.uint64)])
    distinct, first = np.unique(every, return_index=True)
    wanted = np.unique(
        text_key([t.decode("utf-8") for t in texts] + [records[d]["title"] for d in np.unique(passage_doc).tolist()])
    )
    at = np.searchsorted(distinct, wanted)
    if len(wanted) and (np.any(at >= len(distinct)) or np.any(distinct[np.minimum(at, len(distinct) - 1)] != wanted)):
        raise IndexFileError(
            f"the saved analysis of {directory} lacks texts of the segments merged; "
            f"{store.how_to_rebuild(directory, manifest)}"
        )
    taken = Bags.concat(bags).take(first[at])
    return wanted, Bags(
        keys, taken.indptr, np.searchsorted(keys, taken.vocab).astype(np.int32)[taken.terms], taken.counts
    )
