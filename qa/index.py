"""Build, save and load the index: versioned plain files (JSON + .npy), written atomically, never pickled."""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import multiprocessing.pool
import os
import signal
import threading
import time
from collections import Counter
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import platformdirs

from . import corpus, shipped, store
from .bm25 import Segment, term_hash
from .corpus import Document, Passage, Skipped
from .settings import ANALYSIS_BATCH, K1, PARALLEL_FROM, B
from .store import ANALYSIS, DRAFTS, Index, IndexFileError
from .text import ANALYSER_VERSION, analyse

log = logging.getLogger(__name__)


Progress = Callable[[int, int], None]


@dataclass
class BuildReport:
    documents: int
    passages: int
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0


def default_corpus() -> Path:
    """The article the service ships with (index/corpus in a checkout, inside the package once installed)."""
    return shipped("corpus_default", "index/corpus")


COLLECTION_VARIABLE = "QA_INDEX"


def chosen_dir(directory: Path | str | None = None) -> Path | None:
    """The folder of the collection asked for: directory when given, else the one $QA_INDEX names; None for the
    built-in article."""
    chosen = directory or os.environ.get(COLLECTION_VARIABLE)
    return Path(chosen) if chosen else None


def collection(
    directory: Path | str | None = None, waiting: store.Waiting | None = None, checksums: bool | None = None
) -> Index:
    """The collection questions are answered from, by the one rule every command follows: directory when given,
    else the folder $QA_INDEX names, else the built-in article (indexed on first use and whenever it changed)."""
    chosen = chosen_dir(directory)
    if chosen is not None:
        return store.load(chosen, checksums)
    return ensure(default_index_dir(), [default_corpus()], waiting, checksums)


def default_index_dir() -> Path:
    """Where the built-in article is indexed: the user's cache folder, never the package or the source tree."""
    return platformdirs.user_cache_path("qa-vi") / "default-index"


def fingerprint(sources: Iterable[Path]) -> str:
    """What the index was built from: each file's path, size and change time, and how it was analysed."""
    digest = hashlib.sha256(f"{ANALYSER_VERSION}|{corpus.READER_VERSION}|{corpus.MAX_PASSAGE_CHARS}|{K1}|{B}".encode())
    for path in corpus.find_sources(sources):
        try:
            stat = path.stat()
            digest.update(f"|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
        except OSError:
            digest.update(f"|{path}|missing".encode())
    return digest.hexdigest()


def draft_key(draft: corpus.Draft) -> int:
    """64-bit key of a draft as this reader cleans and cuts it (never 0: 0 is "made from no draft")."""
    fields = [
        corpus.READER_VERSION,
        corpus.MAX_PASSAGE_CHARS,
        draft.id,
        draft.title,
        draft.date,
        draft.url,
        draft.lines,
        draft.author,
        draft.blocks,
        draft.headings,
    ]
    digest = hashlib.blake2b(json.dumps(fields).encode("ascii"), digest_size=8).digest()  # JSON: unambiguous
    return int.from_bytes(digest, "little") or 1


def text_key(texts: Sequence[str]) -> np.ndarray:
    """The 64-bit key of each text as this analyser reads it (term_hash of the analyser's version and the text): a
    text analysed once need not be analysed again."""
    return term_hash([f"{ANALYSER_VERSION}\x00{t}" for t in texts])


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values of an array sorted in ascending order, in that order: what np.unique gives, without sorting
    again or importing numpy.ma (20 ms of a qa index add)."""
    return values[np.append(True, values[1:] != values[:-1])] if len(values) else values


@dataclass
class Bags:
    """Bags of terms of many texts in one CSR: arrays to send between processes and to save, not lists of strings."""

    vocab: np.ndarray  # uint64 sorted term hashes
    indptr: np.ndarray  # int64: text i's terms are [indptr[i], indptr[i+1])
    terms: np.ndarray  # int32 rows of vocab
    counts: np.ndarray  # int32 times the term occurs in the text

    @classmethod
    def concat(cls, parts: Sequence["Bags"]) -> "Bags":
        """The texts of all parts, in order, over one vocabulary."""
        parts = [p for p in parts if len(p.indptr) > 1]
        if len(parts) == 1:
            return parts[0]
        vocab = np.sort(np.concatenate([p.vocab for p in parts] + [np.zeros(0, np.uint64)]))
        vocab = _distinct_sorted(vocab)  # np.unique is 5x slower
        sizes = np.concatenate([np.diff(p.indptr) for p in parts] + [np.zeros(0, np.int64)])
        return cls(
            vocab,
            np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
            np.concatenate(
                [np.searchsorted(vocab, p.vocab).astype(np.int32)[p.terms] for p in parts] + [np.zeros(0, np.int32)]
            ),
            np.concatenate([p.counts for p in parts] + [np.zeros(0, np.int32)]),
        )

    def take(self, positions: np.ndarray) -> "Bags":
        """The bags at positions, in that order (a position may come twice)."""
        lo = self.indptr[positions]
        sizes = self.indptr[positions + 1] - lo
        indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        entries = np.arange(indptr[-1]) + np.repeat(lo - indptr[:-1], sizes)
        return Bags(self.vocab, indptr, self.terms[entries], self.counts[entries])

    def pruned(self) -> "Bags":
        """The same bags over only the terms they use."""
        used = np.bincount(self.terms, minlength=len(self.vocab)) > 0
        if used.all():
            return self
        return Bags(self.vocab[used], self.indptr, (np.cumsum(used, dtype=np.int32) - 1)[self.terms], self.counts)


def _analyse_batch(texts: Sequence[str]) -> Bags:
    """Analyse some texts in a worker: what goes back is a few arrays, not a list of strings per text."""
    ids: dict[str, int] = {}
    sizes, terms, counts = [], [], []
    for text in texts:
        bag = Counter(analyse(text))
        sizes.append(len(bag))
        terms += [ids.setdefault(term, len(ids)) for term in bag]
        counts += bag.values()
    vocab, rows = np.unique(term_hash(list(ids)), return_inverse=True)
    return Bags(
        vocab,
        np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        rows.astype(np.int32)[np.array(terms, dtype=np.int64)],
        np.array(counts, dtype=np.int32),
    )


def _analyse_all(
    texts: Sequence[str], workers: int, progress: Progress | None, ready: multiprocessing.pool.Pool | None = None
) -> Bags:
    """Analyse texts in batches, spread over worker processes when there are enough to be worth it, else in the
    worker made ready for a rebuild (_ready_worker) if there is one."""
    batches = [texts[i : i + ANALYSIS_BATCH] for i in range(0, len(texts), ANALYSIS_BATCH)]
    done: list[Bags] = []
    parallel = workers > 1 and len(texts) >= PARALLEL_FROM
    with _workers(min(workers, len(batches))) if parallel else nullcontext(ready) as pool:
        for bags in pool.imap(_analyse_batch, batches) if pool else map(_analyse_batch, batches):
            done.append(bags)
            if progress:
                progress(min(len(done) * ANALYSIS_BATCH, len(texts)), len(texts))
    if progress and not texts:
        progress(0, 0)
    return Bags.concat(done)


_STOPS = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def _workers(processes: int, warm: bool = False) -> Iterator[multiprocessing.pool.Pool]:
    """Worker processes that analyse text; leaving the with block (finished, failed or interrupted) ends them."""
    # Ctrl-C and SIGTERM wait until the pool is whole and its with block entered: one arriving while its processes
    # were being started would leave them to the interpreter's exit.
    before = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        pool = multiprocessing.Pool(processes, initializer=_start_worker, initargs=(os.getpid(), warm))
        with pool:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)
            yield pool
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _start_worker(parent: int, warm: bool) -> None:
    """Set up an analysing process: Ctrl-C is its parent's to handle, and it ends by itself within a second of its
    parent's end, kill -9 included (nothing else would end it: it waits for work on a pipe it holds both ends of)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)  # blocked in the parent while it started this process
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_end_with, args=(parent,), daemon=True, name="end-with-parent").start()
    if warm:
        analyse("khởi động")  # underthesea's model loaded now, not when the first text comes


def _end_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _previous_analysis(out: Path) -> tuple[np.ndarray, Bags]:
    """Text keys (sorted) and bags saved with the segments of the collection in out; none when there is no
    collection or it is damaged (never fatal: everything is analysed again)."""
    nothing = (np.zeros(0, np.uint64), Bags.concat([]))
    manifest = store.any_manifest(out)
    if manifest is None or manifest.get("version") != store.VERSION or manifest.get("analyser") != ANALYSER_VERSION:
        return nothing
    try:
        texts, bags = zip(*(segment_analysis(out, manifest, entry) for entry in manifest["segments"]))
    except (IndexFileError, KeyError, TypeError, OSError) as error:
        log.warning("not reusing the analysis saved in %s (%s): analysing every text again", out, error)
        return nothing
    keyed = np.concatenate(list(texts) + [np.zeros(0, np.uint64)])
    distinct, first = np.unique(keyed, return_index=True)  # a text analysed in two segments is taken once
    return distinct, Bags.concat(bags).take(first)


def segment_analysis(directory: Path, manifest: dict, entry: dict) -> tuple[np.ndarray, Bags]:
    """A segment's saved analysis: the sorted keys of the texts it analysed, and their bags over the segment's keys;
    checksums and structure checked first (a damaged cache would build a wrong index), else IndexFileError."""
    arrays = {
        name: store.load_array(store.checked_file(directory, manifest, entry, name + ".npy"), directory, manifest)
        for name in ANALYSIS + ("keys",)
    }
    keys, keyed, indptr = arrays["keys"], arrays["analysis_texts"], arrays["analysis_indptr"]
    rows, counts = arrays["analysis_terms"], arrays["analysis_counts"]
    if (
        keyed.dtype != np.uint64
        or keys.dtype != np.uint64
        or rows.dtype != np.int32
        or np.any(keyed[1:] <= keyed[:-1])
        or len(indptr) != len(keyed) + 1
        or indptr[0] != 0
        or indptr[-1] != len(rows)
        or len(counts) != len(rows)
        or np.any(np.diff(indptr) < 0)
        or (len(rows) and (rows.min() < 0 or rows.max() >= len(keys) or counts.min() < 1))
    ):
        raise IndexFileError(
            f"the saved analysis of {entry['name']} in {directory} does not fit together; "
            f"{store.how_to_rebuild(directory, manifest)}"
        )
    return np.array(keyed), Bags(
        np.array(keys), np.array(indptr, dtype=np.int64), np.array(rows), np.array(counts, dtype=np.int32)
    )


def analysed_rows(index: Index, s: int, texts: Sequence[str]) -> list[int]:
    """The rows (of segment s's keys) of every term its saved analysis gives these texts, distinct: read in slices of
    its files, never whole (what the removal of a few documents needs of a large segment); IndexFileError when a text
    is not there or a slice does not fit the segment."""
    directory, manifest = index.directory, index.manifest
    entry = manifest["segments"][s]
    keyed, indptr, terms = (
        store.load_array(store.file_entry(directory, manifest, entry, name + ".npy"), directory, manifest)
        for name in ("analysis_texts", "analysis_indptr", "analysis_terms")
    )
    wanted = text_key(texts)
    at = np.searchsorted(keyed, wanted) if keyed.dtype == np.uint64 and len(keyed) else np.full(len(wanted), -1)
    found = (at >= 0) & (at < len(keyed)) & (at + 1 < len(indptr))
    found[found] = keyed[at[found]] == wanted[found]
    spans = [(int(indptr[i]), int(indptr[i + 1])) for i in at.tolist()] if found.all() else []
    rows = np.concatenate([terms[lo:hi] for lo, hi in spans] + [np.zeros(0, np.int32)])
    if (
        not found.all()
        or not all(0 <= lo <= hi <= len(terms) for lo, hi in spans)
        or (len(rows) and (rows.min() < 0 or rows.max() >= len(index.segments[s].postings.keys)))
    ):
        raise IndexFileError(
            f"the saved analysis of {entry['name']} in {directory} lacks a text of the documents to remove, or does "
            f"not fit the segment; {store.how_to_rebuild(directory, manifest)}"
        )
    return _distinct_sorted(np.sort(rows)).tolist()


def document_drafts(index: Index) -> np.ndarray:
    """The draft key of every document of a collection, in collection order (0: made from no draft); checksums
    checked, else IndexFileError."""
    keys = [
        store.load_array(
            store.checked_file(index.directory, index.manifest, entry, DRAFTS + ".npy"), index.directory, index.manifest
        )
        for entry in index.manifest["segments"]
    ]
    keys = np.concatenate(keys + [np.zeros(0, np.uint64)])
    if keys.dtype != np.uint64 or len(keys) != len(index.documents):
        raise IndexFileError(
            f"the drafts of {index.directory} do not match its documents; "
            f"{store.how_to_rebuild(index.directory, index.manifest)}"
        )
    return keys


def _texts(passages: list[str], titles: list[str], passage_doc: np.ndarray) -> list[str]:
    """What is analysed: the passages, then the title of each document that has passages."""
    return passages + [titles[d] for d in _distinct_sorted(passage_doc)]


def _passage_bags(analysis: Bags, where: np.ndarray, passage_doc: np.ndarray) -> tuple[np.ndarray, ...]:
    """(keys, term row, passage, count): each passage's terms and its title's (where: the bag of each of _texts).

    A passage is also about its document's title: "Tesla" names the subject of every paragraph on Tesla.
    """
    n = len(passage_doc)
    title_of = np.zeros(int(passage_doc.max(initial=0)) + 1, dtype=np.int64)
    title_of[_distinct_sorted(passage_doc)] = where[n:]
    bags = analysis.take(np.column_stack([where[:n], title_of[passage_doc]]).reshape(-1))
    owner = np.repeat(np.repeat(np.arange(n, dtype=np.int32), 2), np.diff(bags.indptr))
    return bags.vocab, bags.terms, owner, bags.counts


def passage_terms(index: Index) -> list[list[int]]:
    """Each passage of a collection of one segment as the rows of the terms the index scored (rows of its keys), a
    term as often as it occurs: to run other BM25 code (rank-bm25, bm25s) on the very same terms."""
    if len(index.segments) != 1:
        raise IndexFileError(
            f"{index.directory} has {len(index.segments)} segments; merge them first with: "
            f"qa index optimize --index {index.directory}"
        )
    texts = _texts(
        [index.passage(i).text for i in range(index.n_passages)],
        [d["title"] for d in index.documents],
        index.passage_doc,
    )
    keys = text_key(texts)
    saved_keys, saved = _previous_analysis(index.directory)
    where = np.minimum(np.searchsorted(saved_keys, keys), max(len(saved_keys) - 1, 0))
    if len(keys) and (not len(saved_keys) or np.any(saved_keys[where] != keys)):
        raise IndexFileError(
            f"the analysis saved in {index.directory} is missing or does not match the index; "
            f"{store.how_to_rebuild(index.directory, index.manifest)}"
        )
    vocab, rows, owner, counts = _passage_bags(saved, where, index.passage_doc)
    tokens = np.repeat(np.searchsorted(index.postings.segments[0].keys, vocab)[rows], counts)
    cut = np.searchsorted(np.repeat(owner, counts), np.arange(1, index.n_passages))  # owner is in passage order
    return [t.tolist() for t in np.split(tokens, cut)]


@dataclass
class Chunked:
    """A document ready to index: its entry in documents.json, its passages, and the key of its draft (0: none)."""

    record: dict
    passages: list[Passage]
    draft: int = 0
    folded: list[bytes] | None = None  # each passage's folded text (UTF-8), when reused from a previous index


def chunk(document: Document, draft: int = 0) -> Chunked:
    record = {
        "id": document.id,
        "title": document.title,
        "date": document.date,
        "url": document.url,
        "source": document.source,
    }
    if document.headings:  # where the answer's sentence is not looked for first (corpus.Passage.headings)
        record["headings"] = [list(span) for span in document.headings]
    return Chunked(record, corpus.passages(document), draft)


def build(
    sources: Sequence[Path],
    out: Path,
    workers: int | None = None,
    progress: Progress | None = None,
    waiting: store.Waiting | None = None,
    max_file_size: int = corpus.MAX_FILE_SIZE,
) -> BuildReport:
    """Read the sources and index them into out, holding its write lock; files that give no document are reported,
    not fatal. A document read exactly as for the index already in out is taken from it, not cleaned and cut again.
    """
    with store.writing(out, waiting):
        return _build_sources(sources, out, workers, progress, max_file_size)


def _build_sources(
    sources: Sequence[Path],
    out: Path,
    workers: int | None = None,
    progress: Progress | None = None,
    max_file_size: int = corpus.MAX_FILE_SIZE,
) -> BuildReport:
    """build() for a writer that holds the lock."""
    previous, known = _previous_drafts(out)
    with _ready_worker(previous, workers or os.cpu_count() or 1) as ready:
        chunked, skipped = _chunked(sources, previous, known, max_file_size)
        if not chunked:  # nothing to index: the index there stays as it was
            return BuildReport(0, 0, skipped)
        report = _build(
            chunked,
            out,
            workers,
            progress,
            {
                "fingerprint": fingerprint(sources),
                "sources": [str(Path(s).resolve()) for s in sources],
            },
            ready,
        )
    report.skipped = skipped
    return report


def _ready_worker(previous: Index | None, workers: int) -> AbstractContextManager:
    """For the rebuild of a large corpus, a worker process that loads underthesea's model (half a second) while
    the documents are read: the few that changed are then analysed without waiting for it."""
    if previous is None or previous.n_passages < PARALLEL_FROM or workers < 2:
        return nullcontext()
    return _workers(1, warm=True)


def _chunked(
    sources: Sequence[Path], previous: Index | None, known: dict[int, int], max_file_size: int
) -> tuple[list[Chunked], list[Skipped]]:
    """The documents of the sources, those read exactly as for the previous index taken from it, and the files
    that give none."""
    chunked: list[Chunked] = []
    skipped: list[Skipped] = []
    for item in corpus.read_drafts(sources, max_file_size):
        if isinstance(item, Skipped):
            skipped.append(item)
            continue
        key = draft_key(item)
        if key in known:
            chunked.append(_reuse(previous, known[key], item.source, key))
            continue
        document = item.clean()
        if document.text:
            chunked.append(chunk(document, key))
        else:
            skipped.append(Skipped(item.source, "no article text"))
    for problem in skipped:
        log.info("skipped %s: %s", problem.source, problem.reason)
    log.info("took %d of %d documents as they were", sum(c.draft in known for c in chunked), len(chunked))
    return chunked, skipped


def _previous_drafts(out: Path) -> tuple[Index | None, dict[int, int]]:
    """The collection in out and, by draft key, the number of each of its documents not deleted; none when it
    cannot be read."""
    try:
        previous = store.load(out, checksums=True)
        keys = document_drafts(previous)
    except (IndexFileError, KeyError, TypeError) as error:
        if store.any_manifest(out) is not None:
            log.warning("not reusing the documents of %s (%s): reading every one again", out, error)
        return None, {}
    return previous, {key: number for number, key in enumerate(keys.tolist()) if key and not previous.deleted[number]}


def _reuse(previous: Index, number: int, source: str, key: int) -> Chunked:
    """Document number of the previous index as it was, but for where it was read from this time."""
    return Chunked(
        {**previous.documents[number], "source": source},
        previous.document_passages(number),
        key,
        previous.document_folded(number),
    )


def build_documents(
    documents: Sequence[Document],
    out: Path,
    workers: int | None = None,
    progress: Progress | None = None,
    info: dict | None = None,
) -> BuildReport:
    """Index documents made in memory into out as its only segment, holding its write lock (no drafts: none is
    reused, though the analysis of their texts is)."""
    with store.writing(out):
        return _build([chunk(d) for d in documents], out, workers, progress, info)


def _build(
    documents: Sequence[Chunked],
    out: Path,
    workers: int | None = None,
    progress: Progress | None = None,
    info: dict | None = None,
    ready: multiprocessing.pool.Pool | None = None,
) -> BuildReport:
    """Make the chunked documents the collection in out, in one segment: the previous one stays usable until the
    switch. Texts analysed for the collection already there (same text, same analyser) are not analysed again."""
    started = time.perf_counter()
    with store.change(out) as change:
        entry = write_segment(change, documents, workers, progress, ready, _previous_analysis(out))
        change.commit([entry], info or {})
    return BuildReport(entry["documents"], entry["passages"], seconds=time.perf_counter() - started)


def write_segment(
    change: store.Change,
    documents: Sequence[Chunked],
    workers: int | None = None,
    progress: Progress | None = None,
    ready: multiprocessing.pool.Pool | None = None,
    known: tuple[np.ndarray, Bags] | None = None,
) -> dict:
    """Analyse and count the terms of chunked documents and write them as a new segment of the change; returns its
    manifest entry. Texts in known (sorted text keys and their bags) are not analysed again."""
    passages = [(d, p) for d, document in enumerate(documents) for p in document.passages]
    passage_doc = np.array([d for d, _ in passages], dtype=np.int32).reshape(-1)
    texts = _texts([p.text for _, p in passages], [d.record["title"] for d in documents], passage_doc)
    distinct, first, where = np.unique(text_key(texts), return_index=True, return_inverse=True)
    known_keys, known_bags = known or (np.zeros(0, np.uint64), Bags.concat([]))
    at = np.minimum(np.searchsorted(known_keys, distinct), max(len(known_keys) - 1, 0))
    found = (known_keys[at] == distinct) if len(known_keys) else np.zeros(len(distinct), dtype=bool)
    log.info("analysing %d texts, reusing the analysis of %d", len(first) - int(found.sum()), int(found.sum()))
    every = Bags.concat(
        [known_bags, _analyse_all([texts[i] for i in first[~found]], workers or os.cpu_count() or 1, progress, ready)]
    )
    del known_bags
    # The bag of each distinct text, in key order, without the terms of texts this segment does not have.
    analysis = every.take(np.where(found, at, len(known_keys) + np.cumsum(~found) - 1)).pruned()
    del every
    segment = Segment.from_bags(*_passage_bags(analysis, where, passage_doc), len(passages))
    blobs = [p.text.encode("utf-8") for _, p in passages]
    folded = [
        f
        for d in documents
        for f in (
            d.folded if d.folded is not None else [corpus.folded_sentences(p.text).encode("utf-8") for p in d.passages]
        )
    ]
    arrays = {
        "keys": segment.keys,
        "indptr": segment.indptr,
        "postings": segment.passage,
        "tf": segment.tf,
        "lengths": segment.lengths,
        "peaks": segment.peak,
        "passage_doc": passage_doc,
        "spans": np.array([(p.start, p.end) for _, p in passages], dtype=np.int64).reshape(-1, 2),
        "text_offsets": store.blob_offsets(blobs),
        "folded_offsets": store.blob_offsets(folded),
        # Every term of the analysis is in some passage, so its vocabulary is the segment's: rows of keys.
        "analysis_texts": distinct,
        "analysis_indptr": analysis.indptr,
        "analysis_terms": analysis.terms,
        "analysis_counts": analysis.counts,
        DRAFTS: np.array([d.draft for d in documents], dtype=np.uint64),
    }
    return change.segment(
        arrays, {"texts": b"".join(blobs), "folded": b"".join(folded)}, [d.record for d in documents], segment.average
    )


def ensure(
    directory: Path, sources: Sequence[Path], waiting: store.Waiting | None = None, checksums: bool | None = None
) -> Index:
    """The index of sources in directory, built first when it is missing, damaged, of another format or analyser,
    or older than the sources, by one process while any others wait for it: for the built-in article, whose
    sources ship with qa. A collection of the user's is loaded as it is (store.load): what it holds is decided by
    the commands that write it, never by what its manifest says it was built from.
    """
    if _up_to_date(directory, sources):
        try:
            return store.load(directory, checksums)
        except IndexFileError as error:
            log.warning("%s", error)
    if not store.writable(directory):
        try:
            index = store.load(directory, checksums)
        except IndexFileError as error:
            raise IndexFileError(f"{error}; but {directory} is read-only") from None
        log.warning(
            "the index in %s is older than its sources, but the folder is read-only: answering from it as it is",
            directory,
        )
        return index
    with store.writing(directory, waiting):
        if _up_to_date(directory, sources):  # another process built it while this one waited for the lock
            try:
                return store.load(directory, checksums=True)
            except IndexFileError:
                pass
        log.info("index in %s is missing, stale or damaged: building it from %d source(s)", directory, len(sources))
        _build_sources(sources, directory)
    return store.load(directory, checksums)


def _up_to_date(directory: Path, sources: Sequence[Path]) -> bool:
    """Whether the index in directory was built by this qa from these sources as they are now."""
    manifest = store.any_manifest(directory)
    return (
        manifest is not None
        and manifest.get("version") == store.VERSION
        and manifest.get("analyser") == ANALYSER_VERSION
        and manifest.get("fingerprint") == fingerprint(sources)
    )
