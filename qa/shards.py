"""A sharded collection: a folder of shards, each a collection of its own holding the documents whose id hashes to
it, ranked together with the statistics of the whole (scatter-gather in two rounds: statistics, then top-k).

A shard is a segment at a larger scale: an immutable part ranked with the collection's statistics and merged by
score. Nothing here needs Ray: the shards are asked through a ShardClient, in this process (LocalShards) or as
Ray Serve deployments (qa.cluster).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

from . import collection, corpus, store
from .bm25 import CollectionIdf, CollectionStats
from .corpus import Passage, Skipped
from .index import BuildReport, Chunked, Progress, _build, chunk, draft_key, fingerprint

SHARDS = "shards.json"  # in a sharded collection's folder: the shard folders, in order
FORMAT = "qa-shards"
MAX_SHARDS = 1024
CACHED_HITS = 4096  # passages the ingress keeps of recent answers, for the engine to read without asking again
CACHED_TERMS = 200_000  # document frequencies the ingress keeps (about 30 MiB)


def shard_of(doc_id: str, count: int) -> int:
    """The shard a document goes to: its id's blake2b hash modulo count, the same on every machine and run."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest(), "little") % count


def shard_name(number: int) -> str:
    return f"shard-{number:03d}"


def is_sharded(directory: Path) -> bool:
    """Whether directory holds a sharded collection."""
    return (directory / SHARDS).is_file()


def shard_dirs(directory: Path) -> list[Path]:
    """The folders of a sharded collection's shards, in order; an IndexFileError when its list cannot be read."""
    try:
        listing = json.loads((directory / SHARDS).read_text(encoding="utf-8"))
        names = listing["shards"]
        if listing.get("format") != FORMAT or not names or not all(isinstance(n, str) and "/" not in n for n in names):
            raise ValueError("not a list of shard folders")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise store.IndexFileError(
            f"{directory / SHARDS} cannot be read ({error}); build the collection again "
            f"with qa index build SOURCE... --shards N --out {directory}"
        ) from None
    return [directory / name for name in names]


def read_sharded(
    sources: Sequence[Path], count: int, max_file_size: int = corpus.MAX_FILE_SIZE, only: int | None = None
) -> tuple[list[list[Chunked]], list[Skipped]]:
    """The documents of the sources, cleaned and cut into passages, grouped by shard (only: of that shard alone, the
    others left uncleaned); and the files and documents that give none."""
    groups: list[list[Chunked]] = [[] for _ in range(count)]
    skipped: list[Skipped] = []
    for item in corpus.read_drafts(sources, max_file_size):
        if isinstance(item, Skipped):
            skipped.append(item)
            continue
        shard = shard_of(item.id, count)
        if only is not None and shard != only:
            continue
        document = item.clean()
        if document.text:
            groups[shard].append(chunk(document, draft_key(item)))
        else:
            skipped.append(Skipped(item.source, "no article text"))
    return groups, skipped


def build(
    sources: Sequence[Path],
    out: Path,
    count: int,
    workers: int | None = None,
    progress: Progress | None = None,
    waiting: store.Waiting | None = None,
    max_file_size: int = corpus.MAX_FILE_SIZE,
) -> BuildReport:
    """Index the sources into out as count shards (each document to shard_of its id), one after the other, holding
    out's write lock; the list of shards is written last."""
    with store.writing(out, waiting):
        groups, skipped = read_sharded(sources, count, max_file_size)
        if not any(groups):
            return BuildReport(0, 0, skipped)
        reports = []
        for number, documents in enumerate(groups):
            with store.writing(out / shard_name(number), waiting):
                reports.append(
                    build_shard(
                        documents,
                        out / shard_name(number),
                        sources,
                        workers,
                        progress and _part_of(progress, number, count),
                    )
                )
        write_listing(out, count)
    return BuildReport(
        sum(r.documents for r in reports), sum(r.passages for r in reports), skipped, sum(r.seconds for r in reports)
    )


def build_shard(
    documents: Sequence[Chunked],
    folder: Path,
    sources: Sequence[Path],
    workers: int | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Write the documents as the shard in folder, whose write lock the caller holds: a collection of its own."""
    info = {"fingerprint": fingerprint(sources), "sources": [str(Path(s).resolve()) for s in sources]}
    return _build(documents, folder, workers, progress, info)


def add(
    sources: Sequence[Path],
    out: Path,
    max_file_size: int = corpus.MAX_FILE_SIZE,
    waiting: store.Waiting | None = None,
    all_or_nothing: bool = False,
    wait_seconds: float = store.WAIT_SECONDS,
) -> collection.ChangeReport:
    """Add the documents of the sources to the sharded collection in out, each to the shard its id hashes to (as
    collection.add does for one collection); with all_or_nothing, NotAdded (changing no shard) when a file, line or
    document is skipped."""
    with store.writing(out, waiting, wait_seconds):
        dirs = shard_dirs(out)
        if all_or_nothing:  # checked before any shard is written: a shard's add reads its own documents only
            groups, skipped = read_sharded(sources, len(dirs), max_file_size)
            if skipped or not any(groups):
                raise collection.refusal(skipped)
        reports = [
            collection.add(
                sources,
                folder,
                max_file_size,
                waiting,
                wait_seconds=wait_seconds,
                only=lambda doc_id, n=number: shard_of(doc_id, len(dirs)) == n,
            )
            for number, folder in enumerate(dirs)
        ]
    report = _summed(reports)
    report.skipped = list({(s.source, s.reason): s for s in report.skipped}.values())  # every shard read them all
    return report


def remove(
    doc_ids: Sequence[str], out: Path, waiting: store.Waiting | None = None, wait_seconds: float = store.WAIT_SECONDS
) -> collection.ChangeReport:
    """Remove documents from the sharded collection in out by id; NoSuchDocument (changing nothing) when one is
    not there."""
    with store.writing(out, waiting, wait_seconds):
        dirs = shard_dirs(out)
        wanted = list(dict.fromkeys(doc_ids))
        by_shard = [[i for i in wanted if shard_of(i, len(dirs)) == n] for n in range(len(dirs))]
        held = {d["id"] for folder, ids in zip(dirs, by_shard) if ids for _, d in store.load(folder).live_documents()}
        unknown = [i for i in wanted if i not in held]
        if unknown:
            raise collection.NoSuchDocument(
                f"no document {', '.join(map(repr, unknown))} in {out}; nothing was removed"
            )
        return _summed(
            [collection.remove(ids, folder, waiting, wait_seconds) for folder, ids in zip(dirs, by_shard) if ids]
        )


def optimize(out: Path, waiting: store.Waiting | None = None) -> collection.ChangeReport:
    """Merge each shard's segments into one (collection.optimize of every shard), holding out's write lock."""
    with store.writing(out, waiting):
        return _summed([collection.optimize(folder, waiting) for folder in shard_dirs(out)])


def verify(directory: Path) -> list[str]:
    """The problems of a sharded collection (an empty list when it is whole): its list of shards unreadable, or each
    shard's own (store.verify), named with the shard, and documents in a shard their id does not hash to."""
    try:
        dirs = shard_dirs(directory)
    except store.IndexFileError as error:
        return [str(error)]
    problems = []
    for number, folder in enumerate(dirs):
        found = store.verify(folder)
        problems += [f"{folder.name}: {problem}" for problem in found]
        if found:
            continue
        index = store.load(folder, checksums=False, whole=False)
        strays = [d["id"] for _, d in index.live_documents() if shard_of(d["id"], len(dirs)) != number]
        if strays:
            problems.append(
                f"{folder.name}: holds {len(strays)} document(s) whose id hashes to another of the {len(dirs)} shards "
                f"({', '.join(map(repr, strays[:5]))}); {store.how_to_rebuild(folder, index.manifest)}"
            )
    return problems


def _summed(reports: list[collection.ChangeReport]) -> collection.ChangeReport:
    """What changes of several shards did together."""
    total = collection.ChangeReport()
    for report in reports:
        for name in ("added", "replaced", "removed", "unchanged", "skipped"):
            getattr(total, name).extend(getattr(report, name))
        total.passages += report.passages
        total.merged += report.merged
        total.seconds += report.seconds
    return total


def _part_of(progress: Progress, number: int, count: int) -> Progress:
    """The progress of shard number of count, reported as thousandths of the whole build."""
    return lambda done, total: progress(number * 1000 + done * 1000 // max(total, 1), count * 1000)


def write_listing(out: Path, count: int) -> None:
    """Write out's list of shards, switched to in one atomic rename."""
    temporary = out / f".{SHARDS}.{os.getpid()}"
    temporary.write_text(
        json.dumps({"format": FORMAT, "shards": [shard_name(n) for n in range(count)]}), encoding="utf-8"
    )
    os.replace(temporary, out / SHARDS)


# What a shard answers: where the collection's statistics come together, and what the engine reads of a hit.


@dataclass
class Hit:
    """A passage a shard ranked, with what the engine reads of it: its text, folded text and its document's range
    (passage numbers within the shard)."""

    number: int
    score: float
    passage: Passage
    folded: str
    first: int
    last: int


@dataclass
class Ranking:
    """A shard's answer to ranked(): the terms' document frequency and asked idf (the collection's), its best hits."""

    doc_freq: np.ndarray
    asked_idf: np.ndarray
    hits: list[Hit]


class Shard:
    """One shard as the ingress asks it: its statistics, its top-k under the collection's, and its passages."""

    def __init__(self, directory: Path, checksums: bool | None = None):
        self.index = store.load(directory, checksums)

    def size(self) -> dict:
        """{"documents", "passages" (live), "numbered" (deleted ones included), "total_length", "version"}."""
        return {
            **self.index.stats,
            "numbered": self.index.n_passages,
            "total_length": self.index.postings.total_length,
            "version": self.index.version,
        }

    def catalogue(self) -> list[dict]:
        return self.index.catalogue()

    def changed_file(self) -> str | None:
        return self.index.changed_file()

    def warm_up(self) -> None:
        """Ready to rank many questions: the compiled MaxScore loaded for a large shard."""
        self.index.postings.use_compiled()

    def stats(self, terms: Sequence[str]) -> CollectionStats:
        return self.index.postings.stats_for(terms)

    def any_within(self, terms: Sequence[str], first: int, last: int) -> bool:
        return self.index.postings.any_within(terms, first, last)

    def passages_within(self, terms: Sequence[str], first: int, last: int) -> int:
        return self.index.postings.passages_within(terms, first, last)

    def rank(
        self,
        terms: Sequence[str],
        counts: Sequence[int],
        k: int,
        compounds: tuple[Sequence[int], Sequence[int]],
        stats: CollectionStats,
        written: tuple[Sequence[int], Sequence[int]] = ((), ()),
    ) -> Ranking:
        """The shard's k best passages for the terms, scored with the collection's statistics."""
        doc_freq, asked_idf, numbers, scores = self.index.postings.ranked(
            terms, counts, k, compounds, stats=stats, written=written
        )
        return Ranking(doc_freq, asked_idf, [self.hit(n, s) for n, s in zip(numbers.tolist(), scores.tolist())])

    def hit(self, number: int, score: float = 0.0) -> Hit:
        first, last = self.index.document_range(int(self.index.passage_doc[number]))
        return Hit(number, score, self.index.passage(number), self.index.folded_text(number), first, last)


class ShardClient(Protocol):
    """How the ingress reaches its shards: in this process, or over Ray."""

    names: list[str]

    def gather(self, method: str, *args: Any) -> list[Any]:
        """Every shard's answer to method(*args), asked of all at once, in shard order."""

    def call(self, shard: int, method: str, *args: Any) -> Any:
        """One shard's answer to method(*args)."""

    def replicas(self) -> dict[str, int]:
        """Each shard's live replicas, by name."""


class LocalShards:
    """Shards loaded in this process: a sharded collection answered on one machine."""

    def __init__(self, directory: Path, checksums: bool | None = None, loaded: Sequence[Shard] = ()):
        self.directory = directory
        dirs = shard_dirs(directory)
        self.names = [d.name for d in dirs]
        kept = {shard.index.directory: shard for shard in loaded if not shard.index.changed_file()}
        self.shards = [
            kept[d] if d in kept and kept[d].index.manifest == store.any_manifest(d) else Shard(d, checksums)
            for d in dirs
        ]

    def reloaded(self) -> LocalShards:
        """The shards as they are on disk now: one whose manifest and files are the ones loaded is kept, the others
        loaded with every file checked."""
        return LocalShards(self.directory, True, self.shards)

    def gather(self, method: str, *args: Any) -> list[Any]:
        return [getattr(shard, method)(*args) for shard in self.shards]

    def call(self, shard: int, method: str, *args: Any) -> Any:
        return getattr(self.shards[shard], method)(*args)

    def replicas(self) -> dict[str, int]:
        return {name: 1 for name in self.names}

    def holding(self, doc_id: str) -> store.Index:
        """The loaded shard a document is in, or would go to: the one its id hashes to."""
        return self.shards[shard_of(doc_id, len(self.shards))].index


# What the engine reads: a sharded collection that looks like one loaded collection (store.Index).


class ShardedIndex:
    """A sharded collection as qa.search.Engine reads a collection: passages numbered through the shards in order,
    ranked exactly as one index of them all (two rounds: the collection's statistics, then each shard's top-k)."""

    def __init__(self, shards: ShardClient):
        self.shards = shards
        sizes = shards.gather("size")
        self.offsets = np.concatenate([[0], np.cumsum([s["numbered"] for s in sizes])]).astype(np.int64)
        self.shard_versions = [s["version"] for s in sizes]
        self.documents = sum(s["documents"] for s in sizes)
        self.postings = ShardedPostings(self, sum(s["passages"] for s in sizes), sum(s["total_length"] for s in sizes))
        self.passage_doc = _DocumentOf(self)
        self._hits: OrderedDict[int, Hit] = OrderedDict()  # by number in the collection; recent answers' passages
        self._lock = threading.Lock()

    @property
    def stats(self) -> dict:
        """{"documents", "passages", "shards": [{"name", "replicas"}]}: the replicas live now."""
        live = self.shards.replicas()
        return {
            "documents": self.documents,
            "passages": self.postings.n_live,
            "shards": [{"name": name, "replicas": live.get(name, 0)} for name in self.shards.names],
        }

    @property
    def version(self) -> str:
        """Which state of the collection this is: its newest shard's time of change, then a digest of every shard's
        version (it changes with every write to any shard)."""
        digest = hashlib.blake2b("\n".join(self.shard_versions).encode("utf-8"), digest_size=6).hexdigest()
        return f"{max(v.split(' ')[0] for v in self.shard_versions)} {digest}"

    def catalogue(self) -> list[dict]:
        """Each document not deleted as {"id", "title", "date", "url", "passages"}, shard after shard."""
        return [entry for listed in self.shards.gather("catalogue") for entry in listed]

    def changed_file(self) -> str | None:
        """An index file (shard/file) written to or truncated since its shard was loaded, or None when none was."""
        changed = self.shards.gather("changed_file")
        return next((f"{name}/{file}" for name, file in zip(self.shards.names, changed) if file), None)

    def passage(self, number: int) -> Passage:
        return self._hit(number).passage

    def folded_text(self, number: int) -> str:
        return self._hit(number).folded

    def document_range(self, first: int) -> tuple[int, int]:
        """The numbers of a document's first passage (what passage_doc gives for a document here) and of the one
        after its last."""
        return first, int(self._hit(first).last + self.offsets[self.shard_of(first)])

    def shard_of(self, number: int) -> int:
        return int(np.searchsorted(self.offsets, number, side="right")) - 1

    def keep(self, shard: int, hits: list[Hit]) -> list[int]:
        """Remember these hits of a shard (the engine reads them next); returns their numbers in the collection."""
        offset = int(self.offsets[shard])
        with self._lock:
            for hit in hits:
                self._hits[offset + hit.number] = hit
                self._hits.move_to_end(offset + hit.number)
            while len(self._hits) > CACHED_HITS:
                self._hits.popitem(last=False)
        return [offset + hit.number for hit in hits]

    def _hit(self, number: int) -> Hit:
        with self._lock:
            hit = self._hits.get(number)
        if hit is None:
            shard = self.shard_of(number)
            hit = self.shards.call(shard, "hit", number - int(self.offsets[shard]))
            self.keep(shard, [hit])
        return hit


class _DocumentOf:
    """passage_doc of a sharded collection: a passage's document, named by the number of its first passage."""

    def __init__(self, index: ShardedIndex):
        self.index = index

    def __getitem__(self, number: int) -> int:
        shard = self.index.shard_of(number)
        return int(self.index._hit(number).first + self.index.offsets[shard])


class ShardedPostings(CollectionIdf):
    """What the engine asks of postings, asked of every shard and added up: the collection's statistics.

    The shards do not change while they are asked (they are loaded once), so each term's document frequency, once
    summed, is remembered: a question whose terms were all asked before is answered in one round.
    """

    def __init__(self, index: ShardedIndex, n_live: int, total_length: float):
        self.index = index
        self.n_live, self.total_length = n_live, total_length
        self._known: OrderedDict[str, int] = OrderedDict()  # term -> passages of the collection holding it
        self._lock = threading.Lock()
        self.compiled = False  # whether each shard was asked to rank compiled (a large one does)

    def use_compiled(self) -> None:
        self.index.shards.gather("warm_up")
        self.compiled = True

    def doc_freq(self, terms: Sequence[str]) -> np.ndarray:
        counts = self._summed(list(terms))
        return np.array([counts[t] for t in terms], dtype=np.int64)

    def any_within(self, terms: Sequence[str], first: int, last: int) -> bool:
        return bool(self._within("any_within", terms, first, last))

    def passages_within(self, terms: Sequence[str], first: int, last: int) -> int:
        return int(self._within("passages_within", terms, first, last))

    def _within(self, method: str, terms: Sequence[str], first: int, last: int) -> object:
        """A question about passages from first to last (all in one shard), asked of the shard that holds them."""
        shard = self.index.shard_of(first)
        offset = int(self.index.offsets[shard])
        return self.index.shards.call(shard, method, list(terms), first - offset, last - offset)

    def ranked(
        self,
        terms: Sequence[str],
        counts: Sequence[int],
        k: int,
        compounds: tuple[Sequence[int], Sequence[int]] = ((), ()),
        allowed: np.ndarray | None = None,
        written: tuple[Sequence[int], Sequence[int]] = ((), ()),
    ) -> tuple[np.ndarray, ...]:
        """What bm25.Postings.ranked gives for the whole collection: each shard's top k, ranked with the statistics
        of all of them, merged by score (ties to the lower shard). allowed is always None: filters refuse a sharded
        collection before (filters.Filters.passages)."""
        terms, counts = list(terms), list(counts)
        compounds = (list(compounds[0]), list(compounds[1]))
        written = (list(written[0]), list(written[1]))
        stats = CollectionStats(self.n_live, self.total_length, self._summed(terms))
        rankings: list[Ranking] = self.index.shards.gather("rank", terms, counts, k, compounds, stats, written)
        merged = [
            (hit.score, number)
            for shard, ranking in enumerate(rankings)
            for number, hit in zip(self.index.keep(shard, ranking.hits), ranking.hits)
        ]
        merged.sort(key=lambda pair: (-pair[0], pair[1]))
        merged = merged[:k]
        return (
            rankings[0].doc_freq,
            rankings[0].asked_idf,
            np.array([n for _, n in merged], dtype=np.int64),
            np.array([s for s, _ in merged], dtype=np.float64),
        )

    def _summed(self, terms: list[str]) -> dict[str, int]:
        """How many passages of the collection hold each term: remembered, or asked of every shard and added up."""
        with self._lock:
            known = {t: self._known[t] for t in terms if t in self._known}
        missing = [t for t in dict.fromkeys(terms) if t not in known]
        if missing:
            counts = CollectionStats.summed(self.index.shards.gather("stats", missing)).doc_freq
            known.update(counts)
            with self._lock:
                self._known.update(counts)
                while len(self._known) > CACHED_TERMS:
                    self._known.popitem(last=False)
        return known
