"""The collection on disk: immutable segments of plain files (JSON + .npy, never pickled), each file with a checksum,
deletions as a mask beside a segment, and one manifest that names them all, switched to in one atomic rename by one
writer at a time. Everything is checked before anything reads it."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import time
import uuid
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import numpy as np
import xxhash
from filelock import FileLock, Timeout

from .bm25 import Postings, Segment
from .corpus import Passage, headings_within, passage_id
from .settings import K1, B
from .text import ANALYSER_VERSION

log = logging.getLogger(__name__)

FORMAT = "qa-index"
# 2: peaks.npy; 3: folded.bin; 4: sentence breaks marked in folded.bin; 5: a checksum for every file; 6: segments,
# each with term counts (the collection's statistics are applied when a question is ranked) and deletions.
VERSION = 6
MANIFEST = "manifest.json"
LOCK = "write.lock"
SEGMENT_PREFIX = "seg-"  # every file of a segment is named <segment>.<name>.<write id>
ARRAYS = (
    "keys",
    "indptr",
    "postings",
    "tf",
    "lengths",
    "peaks",
    "passage_doc",
    "spans",
    "text_offsets",
    "folded_offsets",
)
BLOBS = ("texts", "folded")  # .bin: passages' text, and folded for matching (corpus.folded_sentences), UTF-8
# Each analysed text's terms (as rows of keys) and counts, by text key: a rebuild analyses only what changed.
ANALYSIS = ("analysis_texts", "analysis_indptr", "analysis_terms", "analysis_counts")
# The key of the draft each document was made from: a rebuild takes an unchanged document's passages as they are.
DRAFTS = "document_drafts"
# Beside a segment whose documents were removed or replaced: their numbers, and per term how many of the segment's
# passages holding it are theirs.
DELETIONS = ("deleted_documents", "deleted_df")
# What a change (qa index add or remove) reads whole of each segment: its documents, their passages' numbers and its
# deletions. Of the other files it reads a few slices, so load(whole=False) checks only these files' checksums, and
# skips the checks that would read every posting.
CATALOGUE = ("documents.json", "passage_doc.npy") + tuple(name + ".npy" for name in DELETIONS)
# Loading checks every file's checksum up to this many bytes of files (xxh3 reads about 15 GiB/s from memory, so a
# 100k-passage index of 300 MiB takes 20 ms); `qa serve` and `qa index verify` check them whatever the size.
VERIFY_ON_LOAD_UP_TO = 1 << 30
WAIT_SECONDS = 600.0  # how long a writer waits for another to finish before giving up
# Free space a write leaves on the disk beyond its files: the rest of the system needs some too.
SPARE_BYTES = 1 << 20

Waiting = Callable[[str], None]


class IndexFileError(Exception):
    """An index file is missing, truncated, damaged or changed: the message names it and says how to rebuild."""


class IndexWriteError(Exception):
    """The index cannot be written (read-only folder, full disk, another writer): the message says why."""


class DiskFull(IndexWriteError):
    """The disk has no room for a write: the message says how much it needs."""


# The loaded collection


@dataclass
class SegmentFiles:
    """One segment as loaded: its documents, its passages' text (memory-mapped blobs) and postings, and which of
    its documents are deleted."""

    name: str
    documents: list[dict]
    postings: Segment
    passage_doc: np.ndarray  # int32 document number (in the segment) of each passage
    spans: np.ndarray  # int64 (n, 2) offsets of each passage in its document's text
    text_offsets: np.ndarray  # int64 byte offsets of each passage's text in texts
    texts: np.ndarray  # uint8 UTF-8 blob
    folded_offsets: np.ndarray  # int64 byte offsets of each passage's folded text in folded
    folded: np.ndarray  # uint8 UTF-8 blob: each passage's corpus.folded_sentences, made once when building
    deleted_documents: np.ndarray  # bool per document
    deleted_df: np.ndarray | None  # int32 per term: postings of deleted documents (None: none deleted)

    @property
    def deleted_passages(self) -> np.ndarray | None:
        """bool per passage, or None when no document is deleted."""
        return self.deleted_documents[self.passage_doc] if self.deleted_documents.any() else None


@dataclass
class Index:
    """A loaded collection: its segments numbered as one (documents and passages in segment order), their postings
    ranked as one index of the documents not deleted."""

    directory: Path
    manifest: dict
    segments: list[SegmentFiles]
    opened: dict[str, tuple[int, tuple]] = field(default_factory=dict, repr=False)  # file -> (fd, its stat when read)
    closing: Callable[[], object] = field(default=lambda: None, repr=False, compare=False)
    postings: Postings = field(init=False)
    documents: list[dict] = field(init=False)  # every document, deleted ones included (see deleted)
    deleted: np.ndarray = field(init=False)  # bool per document
    passage_doc: np.ndarray = field(init=False)  # int32 document number of each passage
    first_passage: np.ndarray = field(init=False)
    passage_offsets: np.ndarray = field(init=False)  # where each segment's passages start
    document_offsets: np.ndarray = field(init=False)  # where each segment's documents start

    def __post_init__(self) -> None:
        segments = self.segments
        self.postings = Postings(
            [s.postings for s in segments],
            [s.deleted_passages for s in segments],
            [s.deleted_df for s in segments],
            self.manifest.get("k1", K1),
            self.manifest.get("b", B),
        )
        self.documents = [d for s in segments for d in s.documents]
        self.deleted = np.concatenate([s.deleted_documents for s in segments] + [np.zeros(0, bool)])
        self.document_offsets = np.concatenate([[0], np.cumsum([len(s.documents) for s in segments])]).astype(np.int64)
        self.passage_offsets = self.postings.offsets
        self.passage_doc = np.concatenate(
            [s.passage_doc + offset for s, offset in zip(segments, self.document_offsets)] + [np.zeros(0, np.int32)]
        )
        self.first_passage = np.searchsorted(self.passage_doc, np.arange(len(self.documents)))

    @property
    def n_passages(self) -> int:
        """Passages numbered, those of deleted documents included."""
        return len(self.passage_doc)

    @property
    def stats(self) -> dict:
        """What the collection holds, deleted documents left out: {"documents", "passages"}."""
        return {"documents": len(self.documents) - int(self.deleted.sum()), "passages": self.postings.n_live}

    @property
    def version(self) -> str:
        """Which state of the collection this is: it changes with every write."""
        return str(self.manifest.get("changed_at", self.manifest.get("built_at", "")))

    @cached_property
    def document_numbers(self) -> dict[str, int]:
        """The number of each document not deleted, by id."""
        return {d["id"]: number for number, d in self.live_documents()}

    def live_documents(self) -> list[tuple[int, dict]]:
        """The number and record of each document not deleted, in collection order."""
        return [(number, d) for number, d in enumerate(self.documents) if not self.deleted[number]]

    def passage(self, number: int) -> Passage:
        segment, local = self._segment_of(number)
        doc_number = segment.passage_doc.item(local)
        document = segment.documents[doc_number]
        text = self._decoded(_blob_item(segment.texts, segment.text_offsets, local), segment, "texts.bin")
        start, end = segment.spans[local].tolist()
        return Passage(
            passage_id(document["id"], number - self.first_passage.item(self.passage_doc.item(number))),
            document["id"],
            document["title"],
            text,
            start,
            end,
            document.get("url"),
            document.get("date"),
            headings_within(document.get("headings", ()), start, end),
        )

    def folded_text(self, number: int) -> str:
        """A passage's text lowercased and folded, spaces between its syllables and newlines between its sentences:
        what answers are matched in (corpus.folded_sentences)."""
        segment, local = self._segment_of(number)
        return self._decoded(_blob_item(segment.folded, segment.folded_offsets, local), segment, "folded.bin")

    def document_range(self, doc_number: int) -> tuple[int, int]:
        """The numbers of a document's first passage and of the one after its last."""
        last = int(self.first_passage[doc_number + 1]) if doc_number + 1 < len(self.documents) else self.n_passages
        return int(self.first_passage[doc_number]), last

    def catalogue(self) -> list[dict]:
        """Each document not deleted as {"id", "title", "date", "url", "passages"}, in collection order."""
        return [self.catalogue_entry(number) for number, _ in self.live_documents()]

    def catalogue_entry(self, doc_number: int) -> dict:
        """A document as {"id", "title", "date", "url", "passages"} (passages: how many)."""
        d = self.documents[doc_number]
        return {
            "id": d["id"],
            "title": d["title"],
            "date": d.get("date"),
            "url": d.get("url"),
            "passages": self.passage_count(doc_number),
        }

    def passage_count(self, doc_number: int) -> int:
        """How many passages a document has."""
        first, last = self.document_range(doc_number)
        return last - first

    def document_passages(self, doc_number: int) -> list[Passage]:
        """All the passages of a document, its text read once: what passage() gives, a thousand at a time."""
        document = self.documents[doc_number]
        first, last = self.document_range(doc_number)
        if first == last:
            return []
        segment, local = self._segment_of(first)
        texts = _blob_slices(segment.texts, segment.text_offsets, local, local + last - first)
        return [
            Passage(
                passage_id(document["id"], i),
                document["id"],
                document["title"],
                self._decoded(text, segment, "texts.bin"),
                start,
                end,
                document.get("url"),
                document.get("date"),
                headings_within(document.get("headings", ()), start, end),
            )
            for i, (text, (start, end)) in enumerate(zip(texts, segment.spans[local : local + last - first].tolist()))
        ]

    def document_folded(self, doc_number: int) -> list[bytes]:
        """The folded texts of a document's passages, as stored (UTF-8)."""
        first, last = self.document_range(doc_number)
        if first == last:
            return []
        segment, local = self._segment_of(first)
        return _blob_slices(segment.folded, segment.folded_offsets, local, local + last - first)

    def changed_file(self) -> str | None:
        """The name of an index file written to or truncated since it was loaded, or None when none was.

        A change of the collection does not count: it writes new files, and the ones loaded stay as they were.
        """
        for name, (fd, seen) in self.opened.items():
            if _identity(os.fstat(fd)) != seen:
                return name
        return None

    def close(self) -> None:
        """Close the files held open for changed_file() (done anyway when the index is garbage collected)."""
        self.closing()  # a weakref.finalize: closes them once, whether called here or by the garbage collector
        self.opened.clear()

    def _segment_of(self, number: int) -> tuple[SegmentFiles, int]:
        """The segment that holds passage number, and the passage's number in it."""
        if len(self.segments) == 1:  # most collections, and every one after optimize: no search
            return self.segments[0], number
        s = int(np.searchsorted(self.passage_offsets, number, side="right")) - 1
        return self.segments[s], number - int(self.passage_offsets[s])

    def _decoded(self, data: bytes, segment: SegmentFiles, name: str) -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise IndexFileError(
                f"index file {segment.name}.{name} in {self.directory} is damaged (not UTF-8); "
                f"{how_to_rebuild(self.directory, self.manifest)}"
            ) from None


def _close(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


def _identity(stat: os.stat_result) -> tuple:
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _blob_item(blob: np.ndarray, offsets: np.ndarray, number: int) -> bytes:
    """Item number of a blob cut at offsets."""
    return blob[offsets.item(number) : offsets.item(number + 1)].tobytes()


def _blob_slices(blob: np.ndarray, offsets: np.ndarray, first: int, last: int) -> list[bytes]:
    """Items first to last (not included) of a blob cut at offsets, read in one slice."""
    at = offsets[first : last + 1].tolist()
    whole = blob[at[0] : at[-1]].tobytes()
    return [whole[a - at[0] : b - at[0]] for a, b in zip(at, at[1:])]


def blob_offsets(items: list[bytes]) -> np.ndarray:
    """Where each item starts in the items put together, and where the last ends."""
    return np.concatenate([[0], np.cumsum([len(item) for item in items], dtype=np.int64)])


# Writing


@contextmanager
def writing(directory: Path, waiting: Waiting | None = None, wait_seconds: float = WAIT_SECONDS) -> Iterator[None]:
    """Hold the folder's write lock (one writer at a time, across processes) while the block runs, after removing
    what a killed writer left behind. A second writer waits, saying so, and fails after wait_seconds.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(directory / LOCK))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            (waiting or log.warning)(f"waiting for another qa command that is writing {directory}")
            lock.acquire(timeout=wait_seconds)
    except Timeout:
        raise IndexWriteError(
            f"another qa command has been writing {directory} for {wait_seconds:.0f} s; try again when it has finished"
        ) from None
    except OSError as error:
        raise IndexWriteError(f"cannot write the index in {directory}: {error.strerror or error}") from None
    try:
        remove_unlisted(directory)
        yield
    finally:
        lock.release()


def writable(directory: Path) -> bool:
    """Whether an index could be written in directory (or made there): false on a read-only mount."""
    existing = directory
    while not existing.exists():
        existing = existing.parent
    if not os.access(existing, os.W_OK):
        return False
    probe = existing / f".qa-write-test.{uuid.uuid4().hex[:8]}"
    try:  # root passes os.access even on a read-only mount
        probe.touch()
        probe.unlink()
        return True
    except OSError:
        return False


class Change:
    """One change to a collection, made under writing(): new files written under fresh names, then the manifest
    switched to them in one rename (commit). Until then readers see the collection as it was; if the change fails,
    what it wrote is removed. A full disk is an IndexWriteError that says how much space the change needs."""

    def __init__(self, out: Path):
        self.out, self.id, self.written = out, uuid.uuid4().hex[:12], []
        self.needed = 0  # bytes this change has asked the disk for

    def segment(
        self, arrays: dict[str, np.ndarray], blobs: dict[str, bytes], documents: list[dict], average: float
    ) -> dict:
        """Write a new segment; returns its manifest entry."""
        catalogue = json.dumps(documents, ensure_ascii=False).encode("utf-8")
        self._room_for(sum(a.nbytes + 128 for a in arrays.values()) + sum(map(len, blobs.values())) + len(catalogue))
        name = f"{SEGMENT_PREFIX}{uuid.uuid4().hex[:12]}"
        files = {}
        for key, array in arrays.items():
            files[key + ".npy"] = self._write(name, key + ".npy", array)
        for key, blob in blobs.items():
            files[key + ".bin"] = self._write(name, key + ".bin", blob)
        files["documents.json"] = self._write(name, "documents.json", catalogue)
        return {
            "name": name,
            "documents": len(documents),
            "passages": int(len(arrays["passage_doc"])),
            "average": average,
            "files": files,
        }

    def deletions(self, entry: dict, documents: np.ndarray, deleted_df: np.ndarray) -> dict:
        """Write which of a segment's documents are deleted (sorted numbers) and their postings per term; returns
        the segment's new manifest entry."""
        self._room_for(documents.nbytes + deleted_df.nbytes + 256)
        files = {
            "deleted_documents.npy": self._write(entry["name"], "deleted_documents.npy", documents.astype(np.int32)),
            "deleted_df.npy": self._write(entry["name"], "deleted_df.npy", deleted_df.astype(np.int32)),
        }
        return {**entry, "deleted": {"documents": int(len(documents)), "files": files}}

    def commit(self, segments: list[dict], info: dict) -> dict:
        """Switch the collection to these segments in one rename and remove the files no longer listed; returns the
        new manifest."""
        live_documents = sum(s["documents"] - s.get("deleted", {}).get("documents", 0) for s in segments)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "analyser": ANALYSER_VERSION,
            "k1": K1,
            "b": B,
            "changed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z") + f" {self.id}",
            **info,
            "documents": live_documents,
            "segments": segments,
        }
        temporary = self.out / f"{MANIFEST}.{self.id}.tmp"
        self.written.append(temporary.name)
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(manifest, ensure_ascii=False, indent=1))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.out / MANIFEST)
        self.written.clear()
        remove_unlisted(self.out)
        return manifest

    def abandon(self) -> None:
        """Remove what this change wrote (it was not committed)."""
        for filename in self.written:
            (self.out / filename).unlink(missing_ok=True)
        self.written.clear()

    def _write(self, segment: str, name: str, content: np.ndarray | bytes) -> dict:
        filename = f"{segment}.{name}.{self.id}"
        entry = {"file": filename}
        self.written.append(filename)
        with open(self.out / filename, "wb") as handle:
            hashing = _Hashing(handle, entry)
            if isinstance(content, np.ndarray):
                np.save(hashing, np.ascontiguousarray(content), allow_pickle=False)
            else:
                hashing.write(content)
            handle.flush()
            os.fsync(handle.fileno())
            entry["bytes"] = handle.tell()
        return entry

    def _room_for(self, needed: int) -> None:
        free = shutil.disk_usage(self.out).free
        if free < needed + SPARE_BYTES:
            raise DiskFull(_no_space(self.out, needed, free))
        self.needed += needed


@contextmanager
def change(out: Path) -> Iterator[Change]:
    """A Change of the collection in out (whose write lock the caller holds), abandoned if the block fails."""
    made = Change(out)
    try:
        yield made
    except BaseException as error:
        made.abandon()
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(_no_space(out, made.needed, shutil.disk_usage(out).free)) from None
        if isinstance(error, OSError):
            raise IndexWriteError(f"cannot write the index in {out}: {error.strerror or error}") from None
        raise


class _Hashing:
    """A file opened for writing that keeps the xxh3 checksum of what goes through it in entry["xxh3"]."""

    def __init__(self, handle: BinaryIO, entry: dict):
        self.handle, self.entry, self.hash = handle, entry, xxhash.xxh3_64()

    def write(self, data) -> int:
        self.hash.update(data)
        self.entry["xxh3"] = self.hash.hexdigest()
        return self.handle.write(data)

    def __getattr__(self, name: str):  # np.save asks for tell(), flush() and the like
        return getattr(self.handle, name)


def _no_space(out: Path, needed: int, free: int) -> str:
    return (
        f"not enough space on the disk for the index in {out}: it needs about {_mib(needed + SPARE_BYTES)} "
        f"and {_mib(free)} is free; nothing was changed"
    )


def _mib(size: int) -> str:
    return f"{size / (1 << 20):,.0f} MiB"


def listed_files(manifest: dict) -> dict[str, dict]:
    """Every file a manifest names, by its name in the folder: the entry with its size and checksum."""
    files = {}
    for segment in manifest.get("segments", []) if isinstance(manifest.get("segments"), list) else []:
        for group in (segment.get("files"), (segment.get("deleted") or {}).get("files")):
            if isinstance(group, dict):
                files.update({str(e.get("file")): e for e in group.values() if isinstance(e, dict)})
    return files


def remove_unlisted(directory: Path) -> None:
    """Remove the files of earlier or abandoned writes: ours by name, and not the ones the manifest names.

    Called only by the writer that holds the lock, so no write in progress loses its files.
    """
    manifest = any_manifest(directory)
    keep = (
        set(listed_files(manifest))
        if manifest and manifest.get("version") == VERSION
        else {str(e.get("file")) for e in (manifest or {}).get("files", {}).values() if isinstance(e, dict)}
    )
    older = set(
        ("keys", "idf", "indptr", "postings", "weights", "peaks") + ARRAYS + ANALYSIS + BLOBS + (DRAFTS, "documents")
    )  # the files of format 5 and before, one index without segments
    for path in directory.iterdir():
        ours = (
            path.name.startswith(SEGMENT_PREFIX)
            or path.name.split(".")[0] in older
            or (path.name.startswith(MANIFEST + ".") and path.name.endswith(".tmp"))
        )
        if ours and path.name not in keep and path.is_file():
            path.unlink(missing_ok=True)


# Reading


def any_manifest(directory: Path) -> dict | None:
    """The manifest in directory whatever its format version, or None: enough to tell what to rebuild or reuse."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("format") == FORMAT else None


def read_manifest(directory: Path) -> dict:
    """The manifest of an index of this format version, or an IndexFileError that says what is wrong."""
    path = directory / MANIFEST
    if not path.exists():
        raise IndexFileError(f"no index in {directory} ({MANIFEST} is missing); {how_to_rebuild(directory)}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise IndexFileError(f"{path} is unreadable or corrupt ({error}); {how_to_rebuild(directory)}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexFileError(f"{path} is not a qa index manifest; {how_to_rebuild(directory)}")
    if manifest.get("version") != VERSION:
        raise IndexFileError(
            f"{path} is index format version {manifest.get('version')}, this qa reads "
            f"{VERSION}; {how_to_rebuild(directory, manifest)}"
        )
    if manifest.get("analyser") != ANALYSER_VERSION:
        raise IndexFileError(
            f"{path} was built by text analyser {manifest.get('analyser')}, this qa analyses "
            f"questions with {ANALYSER_VERSION}; {how_to_rebuild(directory, manifest)}"
        )
    segments = manifest.get("segments")
    if not isinstance(segments, list) or not all(_segment_entry_ok(s) for s in segments):
        raise IndexFileError(
            f"{path} does not list its segments as this qa writes them; {how_to_rebuild(directory, manifest)}"
        )
    return manifest


def _segment_entry_ok(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("name"), str)
        and entry["name"].startswith(SEGMENT_PREFIX)
        and isinstance(entry.get("files"), dict)
        and isinstance(entry.get("documents"), int)
        and isinstance(entry.get("passages"), int)
        and isinstance(entry.get("average"), (int, float))
        and isinstance(entry.get("deleted", {}), dict)
    )


def file_entry(directory: Path, manifest: dict, segment: dict, name: str, group: str = "files") -> Path:
    """The path of a segment's file the manifest lists, checked to be there with the size written, or an
    IndexFileError."""
    files = segment.get(group) if group == "files" else (segment.get("deleted") or {}).get("files")
    entry = files.get(name) if isinstance(files, dict) else None
    filename = entry.get("file") if isinstance(entry, dict) else None
    # The manifest is data, never a way out of the folder: a plain name as Change wrote it.
    if (
        not isinstance(filename, str)
        or Path(filename).name != filename
        or not filename.startswith(f"{segment['name']}.{name}.")
    ):
        raise IndexFileError(
            f"{directory / MANIFEST} does not list {segment['name']}'s {name} as this qa writes "
            f"it; {how_to_rebuild(directory, manifest)}"
        )
    path = directory / filename
    size = path.stat().st_size if path.is_file() else None
    if size != entry.get("bytes"):
        state = "missing" if size is None else f"{size} bytes where {entry.get('bytes')} were written"
        raise IndexFileError(f"index file {path} is {state}; {how_to_rebuild(directory, manifest)}")
    return path


def check_sum(directory: Path, manifest: dict, path: Path) -> None:
    """Nothing when the file's content has the checksum written with it, else an IndexFileError naming it."""
    digest = xxhash.xxh3_64()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 24):
            digest.update(block)
    if digest.hexdigest() != listed_files(manifest)[path.name].get("xxh3"):
        raise IndexFileError(
            f"index file {path} is damaged (its checksum does not match); {how_to_rebuild(directory, manifest)}"
        )


def checked_file(directory: Path, manifest: dict, segment: dict, name: str, group: str = "files") -> Path:
    """file_entry() with the checksum checked too."""
    path = file_entry(directory, manifest, segment, name, group)
    check_sum(directory, manifest, path)
    return path


def verify(directory: Path) -> list[str]:
    """Every file of the collection checked against its size and checksum, then loaded and checked for consistency:
    the problems found (an empty list when the collection is whole)."""
    try:
        manifest = read_manifest(directory)
    except IndexFileError as error:
        return [str(error)]
    problems = []
    for segment in manifest["segments"]:
        for group in ("files", "deleted"):
            names = (segment.get(group) if group == "files" else (segment.get("deleted") or {}).get("files")) or {}
            for name in names:
                try:
                    checked_file(directory, manifest, segment, name, group)
                except IndexFileError as error:
                    problems.append(str(error))
    if not problems:
        try:
            load(directory, checksums=False).close()
        except IndexFileError as error:
            problems.append(str(error))
    return problems


def load(directory: Path, checksums: bool | None = None, whole: bool = True) -> Index:
    """Open a saved collection memory-mapped, every file checked first so that a damaged one is named, not served.

    Sizes and the arrays' structure are always checked; checksums when checksums is True, or when None and the
    files add up to at most VERIFY_ON_LOAD_UP_TO bytes. With whole False, for a change that reads the CATALOGUE
    files and a few slices of the others, only the CATALOGUE's checksums and the checks that read no whole posting
    array are done. A collection changed while it was being opened is opened again as it is now.
    """
    attempts = 3
    while True:
        manifest = read_manifest(directory)
        try:
            return _load(directory, manifest, checksums, whole)
        except IndexFileError:
            attempts -= 1
            if not attempts or any_manifest(directory) == manifest:
                raise  # the files are damaged, not replaced by a writer that switched the manifest meanwhile


def _load(directory: Path, manifest: dict, checksums: bool | None, whole: bool) -> Index:
    wanted = [a + ".npy" for a in ARRAYS] + [b + ".bin" for b in BLOBS] + ["documents.json"]
    paths = {}
    for segment in manifest["segments"]:
        for name in wanted:
            paths[(segment["name"], "files", name)] = file_entry(directory, manifest, segment, name)
        for name in (n + ".npy" for n in DELETIONS) if segment.get("deleted") else ():
            paths[(segment["name"], "deleted", name)] = file_entry(directory, manifest, segment, name, "deleted")
    sizes = listed_files(manifest)
    if not whole:
        to_check = [path for (_, _, name), path in paths.items() if name in CATALOGUE]
    elif checksums or (
        checksums is None and sum(sizes[p.name]["bytes"] for p in paths.values()) <= VERIFY_ON_LOAD_UP_TO
    ):
        to_check = list(paths.values())
    else:
        to_check = []
    for path in to_check:
        check_sum(directory, manifest, path)
    opened = {}
    try:
        for path in paths.values():  # held open: changed_file() sees a write to the very files mapped
            fd = os.open(path, os.O_RDONLY)
            opened[path.name] = (fd, _identity(os.fstat(fd)))
        segments = [
            _load_segment(
                directory,
                manifest,
                segment,
                {name: paths[(segment["name"], group, name)] for (s, group, name) in paths if s == segment["name"]},
                whole,
            )
            for segment in manifest["segments"]
        ]
        index = Index(directory, manifest, segments, opened)
    except BaseException:
        _close([fd for fd, _ in opened.values()])
        raise
    index.closing = weakref.finalize(index, _close, [fd for fd, _ in opened.values()])
    return index


def _load_segment(directory: Path, manifest: dict, entry: dict, paths: dict[str, Path], whole: bool) -> SegmentFiles:
    arrays = {name: load_array(paths[name + ".npy"], directory, manifest) for name in ARRAYS}
    blobs = {
        name: np.memmap(paths[name + ".bin"], dtype=np.uint8, mode="r").view(np.ndarray)
        if paths[name + ".bin"].stat().st_size
        else np.zeros(0, dtype=np.uint8)
        for name in BLOBS
    }
    try:
        documents = json.loads(paths["documents.json"].read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise IndexFileError(
            f"index file {paths['documents.json']} is corrupt ({error}); {how_to_rebuild(directory, manifest)}"
        ) from None
    deleted = {
        name: load_array(paths[name + ".npy"], directory, manifest) for name in DELETIONS if name + ".npy" in paths
    }
    _check_structure(directory, manifest, entry, arrays, blobs, documents, deleted, paths, whole)
    deleted_documents = np.zeros(len(documents), dtype=bool)
    if deleted:
        deleted_documents[deleted["deleted_documents"]] = True
    postings = Segment(
        arrays["keys"],
        arrays["indptr"],
        arrays["postings"],
        arrays["tf"],
        arrays["lengths"],
        arrays["peaks"],
        float(entry["average"]),
    )
    return SegmentFiles(
        entry["name"],
        documents,
        postings,
        arrays["passage_doc"],
        arrays["spans"],
        arrays["text_offsets"],
        blobs["texts"],
        arrays["folded_offsets"],
        blobs["folded"],
        deleted_documents,
        deleted.get("deleted_df"),
    )


def load_array(path: Path, directory: Path, manifest: dict | None = None) -> np.ndarray:
    """A saved array, memory-mapped, or an IndexFileError naming the file."""
    try:
        # A plain ndarray view of the map: the np.memmap subclass costs ~20 µs on every slice taken while scoring.
        return np.load(path, mmap_mode="r", allow_pickle=False).view(np.ndarray)
    except (ValueError, OSError, EOFError) as error:
        raise IndexFileError(f"index file {path} is corrupt ({error}); {how_to_rebuild(directory, manifest)}") from None


# What each array must be for the compiled ranking and the blob slicing to stay inside their arrays.
_DTYPES = {
    "keys": np.uint64,
    "indptr": np.int64,
    "postings": np.int32,
    "tf": np.float32,
    "lengths": np.float32,
    "peaks": np.float32,
    "passage_doc": np.int32,
    "spans": np.int64,
    "text_offsets": np.int64,
    "folded_offsets": np.int64,
    "deleted_documents": np.int32,
    "deleted_df": np.int32,
}


def _check_structure(
    directory: Path,
    manifest: dict,
    entry: dict,
    arrays: dict[str, np.ndarray],
    blobs: dict[str, np.ndarray],
    documents: object,
    deleted: dict[str, np.ndarray],
    paths: dict[str, Path],
    whole: bool,
) -> None:
    """Nothing when a segment's arrays fit together (types, sizes, offsets increasing and in range, numbers in
    range), else an IndexFileError naming the first file that does not: checked in a few passes over the arrays,
    before any compiled code indexes with them. With whole False, the passes over arrays not in the CATALOGUE are
    left out (types and sizes are still checked)."""

    def broken(name: str, why: str) -> IndexFileError:
        return IndexFileError(
            f"index file {paths[name]} does not fit the rest of the index ({why}); "
            f"{how_to_rebuild(directory, manifest)}"
        )

    for name, array in {**arrays, **deleted}.items():
        if array.dtype != _DTYPES[name] or array.ndim != (2 if name == "spans" else 1):
            raise broken(name + ".npy", f"{array.dtype} {array.shape}")
    if not isinstance(documents, list) or not all(
        isinstance(d, dict) and isinstance(d.get("id"), str) and isinstance(d.get("title"), str) for d in documents
    ):
        raise broken("documents.json", "not a list of documents")
    keys, indptr, postings = arrays["keys"], arrays["indptr"], arrays["postings"]
    n, n_docs, passage_doc = len(arrays["passage_doc"]), len(documents), arrays["passage_doc"]
    checks = [
        ("keys.npy", "not sorted", whole and len(keys) > 1 and not np.all(keys[1:] > keys[:-1])),
        ("peaks.npy", "not one per term", len(arrays["peaks"]) != len(keys)),
        (
            "indptr.npy",
            "not offsets of the postings",
            len(indptr) != len(keys) + 1
            or indptr[0] != 0
            or indptr[-1] != len(postings)
            or (whole and np.any(indptr[1:] < indptr[:-1])),
        ),
        ("tf.npy", "not one per posting", len(arrays["tf"]) != len(postings)),
        (
            "postings.npy",
            "a passage number out of range",
            whole and len(postings) and (int(postings.max()) >= n or int(postings.min()) < 0),
        ),
        ("lengths.npy", "not one per passage", len(arrays["lengths"]) != n),
        ("passage_doc.npy", "not the counts written", n != entry["passages"] or n_docs != entry["documents"]),
        (
            "passage_doc.npy",
            "document numbers out of order",
            n and (passage_doc[0] < 0 or passage_doc[-1] >= n_docs or np.any(passage_doc[1:] < passage_doc[:-1])),
        ),
        ("spans.npy", "not one span per passage", arrays["spans"].shape != (n, 2)),
    ]
    for blob, name in (("texts", "text_offsets"), ("folded", "folded_offsets")):
        offsets = arrays[name]
        checks.append(
            (
                name + ".npy",
                "not offsets of the passages",
                len(offsets) != n + 1
                or offsets[0] != 0
                or offsets[-1] != len(blobs[blob])
                or (whole and np.any(offsets[1:] < offsets[:-1])),
            )
        )
    if deleted:
        numbers, df = deleted["deleted_documents"], deleted["deleted_df"]
        checks += [
            (
                "deleted_documents.npy",
                "document numbers out of range",
                len(numbers) and (int(numbers.min()) < 0 or int(numbers.max()) >= n_docs),
            ),
            ("deleted_df.npy", "not one per term", len(df) != len(keys) or (len(df) and int(df.min()) < 0)),
        ]
    for name, why, failed in checks:
        if failed:
            raise broken(name, why)


def how_to_rebuild(directory: Path, manifest: dict | None = None) -> str:
    """What to run to build the index in directory again, with the sources it was built from when known: for a shard
    of a sharded collection, the whole sharded collection (a shard built alone would hold every document)."""
    from . import shards  # built on this module: imported when needed

    sources = (manifest or {}).get("sources")
    named = (
        " ".join(_quoted(s) for s in sources)
        if isinstance(sources, list) and sources and all(isinstance(s, str) for s in sources)
        else "SOURCE ..."
    )
    if shards.is_sharded(directory.parent):
        try:
            dirs = shards.shard_dirs(directory.parent)
        except IndexFileError:
            dirs = None  # a list that cannot be read: the shard's count unknown
        if dirs is None or directory in dirs:
            count = len(dirs) if dirs else "N"
            return (
                f"rebuild the sharded collection it is a shard of with: qa index build {named} --shards {count} "
                f"--out {_quoted(str(directory.parent))}"
            )
    return f"rebuild it with: qa index build {named} --out {_quoted(str(directory))}"


def _quoted(text: str) -> str:
    return (
        text if text and all(c.isalnum() or c in "/._-+:@%" for c in text) else "'" + text.replace("'", "'\\''") + "'"
    )
