"""The index on disk: versioned plain files (JSON + .npy, never pickled), each with a checksum, switched to in one
atomic rename, written by one process at a time, and checked before anything reads them."""
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
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import numpy as np
import xxhash
from filelock import FileLock, Timeout

from .bm25 import Postings
from .corpus import Passage, passage_id
from .text import ANALYSER_VERSION

log = logging.getLogger(__name__)

FORMAT = "qa-index"
VERSION = 5  # 2: peaks.npy; 3: folded.bin; 4: sentence breaks marked in folded.bin; 5: a checksum for every file
MANIFEST = "manifest.json"
LOCK = "write.lock"
ARRAYS = ("keys", "idf", "indptr", "postings", "weights", "peaks", "passage_doc", "spans", "text_offsets",
          "folded_offsets")
BLOBS = ("texts", "folded")  # .bin: passages' text, and folded for matching (corpus.folded_sentences), UTF-8
# Each analysed text's terms (as rows of keys) and counts, by text key: a rebuild analyses only what changed.
ANALYSIS = ("analysis_texts", "analysis_indptr", "analysis_terms", "analysis_counts")
# The key of the draft each document was made from: a rebuild takes an unchanged document's passages as they are.
DRAFTS = "document_drafts"
# Loading checks every file's checksum up to this many bytes of files (xxh3 reads about 15 GiB/s from memory, so a
# 100k-passage index of 300 MiB takes 20 ms); `qa serve` and `qa index verify` check them whatever the size.
VERIFY_ON_LOAD_UP_TO = 1 << 30
# Free space a build leaves on the disk beyond its files: the rest of the system needs some too.
SPARE_BYTES = 1 << 20

Waiting = Callable[[str], None]


class IndexFileError(Exception):
    """An index file is missing, truncated, damaged or changed: the message names it and says how to rebuild."""


class IndexWriteError(Exception):
    """The index cannot be written (read-only folder, full disk, another writer): the message says why."""


@dataclass
class Index:
    """A loaded index: documents, passages (text in one memory-mapped blob) and their BM25 postings."""

    directory: Path
    manifest: dict
    documents: list[dict]
    postings: Postings
    passage_doc: np.ndarray  # int32 document number of each passage
    spans: np.ndarray  # int64 (n, 2) offsets of each passage in its document's text
    text_offsets: np.ndarray  # int64 byte offsets of each passage's text in texts
    texts: np.ndarray  # uint8 UTF-8 blob
    folded_offsets: np.ndarray  # int64 byte offsets of each passage's folded text in folded
    folded: np.ndarray  # uint8 UTF-8 blob: each passage's corpus.folded_sentences, made once when building
    opened: dict[str, tuple[int, tuple]] = field(default_factory=dict, repr=False)  # name -> (fd, its stat when read)
    closing: Callable[[], object] = field(default=lambda: None, repr=False, compare=False)
    first_passage: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.first_passage = np.searchsorted(self.passage_doc, np.arange(len(self.documents)))

    @property
    def n_passages(self) -> int:
        return len(self.passage_doc)

    def passage(self, number: int) -> Passage:
        doc_number = self.passage_doc.item(number)
        document = self.documents[doc_number]
        text = self._decoded(_blob_item(self.texts, self.text_offsets, number), "texts.bin")
        start, end = self.spans[number].tolist()
        return Passage(passage_id(document["id"], number - self.first_passage.item(doc_number)), document["id"],
                       document["title"], text, start, end)

    def folded_text(self, number: int) -> str:
        """A passage's text lowercased and folded, spaces between its syllables and newlines between its sentences:
        what answers are matched in (corpus.folded_sentences)."""
        return self._decoded(_blob_item(self.folded, self.folded_offsets, number), "folded.bin")

    def document_range(self, doc_number: int) -> tuple[int, int]:
        """The numbers of a document's first passage and of the one after its last."""
        last = int(self.first_passage[doc_number + 1]) if doc_number + 1 < len(self.documents) else self.n_passages
        return int(self.first_passage[doc_number]), last

    def document_passages(self, doc_number: int) -> list[Passage]:
        """All the passages of a document, its text read once: what passage() gives, a thousand at a time."""
        document = self.documents[doc_number]
        first, last = self.document_range(doc_number)
        texts = _blob_slices(self.texts, self.text_offsets, first, last)
        return [Passage(passage_id(document["id"], i), document["id"], document["title"],
                        self._decoded(text, "texts.bin"), start, end)
                for i, (text, (start, end)) in enumerate(zip(texts, self.spans[first:last].tolist()))]

    def document_folded(self, doc_number: int) -> list[bytes]:
        """The folded texts of a document's passages, as stored (UTF-8)."""
        return _blob_slices(self.folded, self.folded_offsets, *self.document_range(doc_number))

    def changed_file(self) -> str | None:
        """The name of an index file written to or truncated since it was loaded, or None when none was.

        A new build does not count: it writes new files, and the ones loaded stay as they were until closed.
        """
        for name, (fd, seen) in self.opened.items():
            if _identity(os.fstat(fd)) != seen:
                return name
        return None

    def close(self) -> None:
        """Close the files held open for changed_file() (done anyway when the index is garbage collected)."""
        self.closing()  # a weakref.finalize: closes them once, whether called here or by the garbage collector
        self.opened.clear()

    def _decoded(self, data: bytes, name: str) -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise IndexFileError(f"index file {name} in {self.directory} is damaged (not UTF-8); "
                                 f"{how_to_rebuild(self.directory, self.manifest)}") from None


def _close(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


def _identity(stat: os.stat_result) -> tuple:
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _blob_item(blob: np.ndarray, offsets: np.ndarray, number: int) -> bytes:
    """Item number of a blob cut at offsets."""
    return blob[offsets.item(number):offsets.item(number + 1)].tobytes()


def _blob_slices(blob: np.ndarray, offsets: np.ndarray, first: int, last: int) -> list[bytes]:
    """Items first to last (not included) of a blob cut at offsets, read in one slice."""
    at = offsets[first:last + 1].tolist()
    whole = blob[at[0]:at[-1]].tobytes()
    return [whole[a - at[0]:b - at[0]] for a, b in zip(at, at[1:])]


def blob_offsets(items: list[bytes]) -> np.ndarray:
    """Where each item starts in the items put together, and where the last ends."""
    return np.concatenate([[0], np.cumsum([len(item) for item in items], dtype=np.int64)])


# Writing


@contextmanager
def writing(directory: Path, waiting: Waiting | None = None, wait_seconds: float = 600.0) -> Iterator[None]:
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
        raise IndexWriteError(f"another qa command has been writing {directory} for {wait_seconds:.0f} s; "
                              "try again when it has finished") from None
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


def save(out: Path, arrays: dict[str, np.ndarray], blobs: dict[str, bytes], documents: list[dict],
         info: dict) -> None:
    """Write this build's files under fresh names, each with its checksum, then switch the manifest to them in one
    rename. Called under writing(out). On any failure the files written so far are removed and the previous index
    stays as it was; a full disk is an IndexWriteError that says how much space the index needs.
    """
    catalogue = json.dumps(documents, ensure_ascii=False).encode("utf-8")
    needed = sum(a.nbytes + 128 for a in arrays.values()) + sum(map(len, blobs.values())) + len(catalogue)
    free = shutil.disk_usage(out).free
    if free < needed + SPARE_BYTES:
        raise IndexWriteError(_no_space(out, needed, free))
    build_id = uuid.uuid4().hex[:12]
    written: dict[str, dict] = {}

    def write(name: str, content: np.ndarray | bytes) -> None:
        filename = f"{name}.{build_id}"
        written[name] = {"file": filename}
        with open(out / filename, "wb") as handle:
            hashing = _Hashing(handle, written[name])
            if isinstance(content, np.ndarray):
                np.save(hashing, np.ascontiguousarray(content), allow_pickle=False)
            else:
                hashing.write(content)
            handle.flush()
            os.fsync(handle.fileno())
            written[name]["bytes"] = handle.tell()

    try:
        for name, array in arrays.items():
            write(name + ".npy", array)
        for name, blob in blobs.items():
            write(name + ".bin", blob)
        write("documents.json", catalogue)
        manifest = {"format": FORMAT, "version": VERSION, "analyser": ANALYSER_VERSION,
                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **info, "files": written}
        temporary = out / f"{MANIFEST}.{build_id}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(manifest, ensure_ascii=False, indent=1))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, out / MANIFEST)
    except BaseException as error:
        for entry in written.values():
            (out / entry["file"]).unlink(missing_ok=True)
        (out / f"{MANIFEST}.{build_id}.tmp").unlink(missing_ok=True)
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise IndexWriteError(_no_space(out, needed, shutil.disk_usage(out).free)) from None
        if isinstance(error, OSError):
            raise IndexWriteError(f"cannot write the index in {out}: {error.strerror or error}") from None
        raise
    remove_unlisted(out)


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
    return (f"not enough space on the disk for the index in {out}: it needs about {_mib(needed + SPARE_BYTES)} "
            f"and {_mib(free)} is free; nothing was changed")


def _mib(size: int) -> str:
    return f"{size / (1 << 20):,.0f} MiB"


def remove_unlisted(directory: Path) -> None:
    """Remove the files of earlier or abandoned builds: ours by name, and not the ones the manifest names.

    Called only by the writer that holds the lock, so no build in progress loses its files.
    """
    manifest = any_manifest(directory)
    keep = {str(e.get("file")) for e in manifest.get("files", {}).values() if isinstance(e, dict)} if manifest else set()
    ours = set(ARRAYS + ANALYSIS + BLOBS + (DRAFTS, "documents", MANIFEST.split(".")[0]))
    for path in directory.iterdir():
        if path.name not in keep and path.name != MANIFEST and path.name.split(".")[0] in ours and path.is_file():
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
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise IndexFileError(f"{path} is not a qa index manifest; {how_to_rebuild(directory)}")
    if manifest.get("version") != VERSION:
        raise IndexFileError(f"{path} is index format version {manifest.get('version')}, this qa reads "
                             f"{VERSION}; {how_to_rebuild(directory, manifest)}")
    if manifest.get("analyser") != ANALYSER_VERSION:
        raise IndexFileError(f"{path} was built by text analyser {manifest.get('analyser')}, this qa analyses "
                             f"questions with {ANALYSER_VERSION}; {how_to_rebuild(directory, manifest)}")
    return manifest


def file_entry(directory: Path, manifest: dict, name: str) -> Path:
    """The path of a file the manifest lists, checked to be there with the size written, or an IndexFileError."""
    entry = manifest["files"].get(name)
    filename = entry.get("file") if isinstance(entry, dict) else None
    # The manifest is data, never a way out of the folder: a plain name written by save().
    if not isinstance(filename, str) or Path(filename).name != filename or not filename.startswith(name + "."):
        raise IndexFileError(f"{directory / MANIFEST} does not list {name} as this qa writes it; "
                             f"{how_to_rebuild(directory, manifest)}")
    path = directory / filename
    size = path.stat().st_size if path.is_file() else None
    if size != entry.get("bytes"):
        state = "missing" if size is None else f"{size} bytes where {entry.get('bytes')} were written"
        raise IndexFileError(f"index file {path} is {state}; {how_to_rebuild(directory, manifest)}")
    return path


def check_sum(directory: Path, manifest: dict, name: str, path: Path) -> None:
    """Nothing when the file's content has the checksum written with it, else an IndexFileError naming it."""
    digest = xxhash.xxh3_64()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 24):
            digest.update(block)
    if digest.hexdigest() != manifest["files"][name].get("xxh3"):
        raise IndexFileError(f"index file {path} is damaged (its checksum does not match); "
                             f"{how_to_rebuild(directory, manifest)}")


def verify(directory: Path) -> list[str]:
    """Every index file checked against its size and checksum, then loaded and checked for consistency: the
    problems found (an empty list when the index is whole)."""
    try:
        manifest = read_manifest(directory)
    except IndexFileError as error:
        return [str(error)]
    problems = []
    for name in manifest["files"]:
        try:
            check_sum(directory, manifest, name, file_entry(directory, manifest, name))
        except IndexFileError as error:
            problems.append(str(error))
    if not problems:
        try:
            load(directory, checksums=False).close()
        except IndexFileError as error:
            problems.append(str(error))
    return problems


def load(directory: Path, checksums: bool | None = None) -> Index:
    """Open a saved index memory-mapped, every file checked first so that a damaged one is named, not served.

    Sizes and the arrays' structure are always checked; checksums when checksums is True, or when None and the
    files add up to at most VERIFY_ON_LOAD_UP_TO bytes.
    """
    manifest = read_manifest(directory)
    names = [a + ".npy" for a in ARRAYS] + [b + ".bin" for b in BLOBS] + ["documents.json"]
    paths = {name: file_entry(directory, manifest, name) for name in names}
    if checksums or (checksums is None
                     and sum(manifest["files"][n]["bytes"] for n in names) <= VERIFY_ON_LOAD_UP_TO):
        for name in names:
            check_sum(directory, manifest, name, paths[name])
    opened = {}
    for name, path in paths.items():  # held open: changed_file() sees a write to the very files mapped
        fd = os.open(path, os.O_RDONLY)
        opened[name] = (fd, _identity(os.fstat(fd)))
    try:
        arrays = {name: load_array(paths[name + ".npy"], directory, manifest) for name in ARRAYS}
        blobs = {name: np.memmap(paths[name + ".bin"], dtype=np.uint8, mode="r").view(np.ndarray)
                 if manifest["files"][name + ".bin"]["bytes"] else np.zeros(0, dtype=np.uint8) for name in BLOBS}
        try:
            documents = json.loads(paths["documents.json"].read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise IndexFileError(f"index file {paths['documents.json']} is corrupt ({error}); "
                                 f"{how_to_rebuild(directory, manifest)}") from None
        _check_structure(directory, manifest, arrays, blobs, documents, paths)
        index = Index(directory, manifest, documents,
                      Postings(arrays["keys"], arrays["idf"], arrays["indptr"], arrays["postings"], arrays["weights"],
                               arrays["peaks"], len(arrays["passage_doc"])),
                      arrays["passage_doc"], arrays["spans"], arrays["text_offsets"], blobs["texts"],
                      arrays["folded_offsets"], blobs["folded"], opened)
    except BaseException:
        _close([fd for fd, _ in opened.values()])
        raise
    index.closing = weakref.finalize(index, _close, [fd for fd, _ in opened.values()])
    return index


def load_array(path: Path, directory: Path, manifest: dict | None = None) -> np.ndarray:
    """A saved array, memory-mapped, or an IndexFileError naming the file."""
    try:
        # A plain ndarray view of the map: the np.memmap subclass costs ~20 µs on every slice taken while scoring.
        return np.load(path, mmap_mode="r", allow_pickle=False).view(np.ndarray)
    except (ValueError, OSError, EOFError) as error:
        raise IndexFileError(f"index file {path} is corrupt ({error}); "
                             f"{how_to_rebuild(directory, manifest)}") from None


# What each array must be for the compiled ranking and the blob slicing to stay inside their arrays.
_DTYPES = {"keys": np.uint64, "idf": np.float64, "indptr": np.int64, "postings": np.int32, "weights": np.float32,
           "peaks": np.float32, "passage_doc": np.int32, "spans": np.int64, "text_offsets": np.int64,
           "folded_offsets": np.int64}


def _check_structure(directory: Path, manifest: dict, arrays: dict[str, np.ndarray], blobs: dict[str, np.ndarray],
                     documents: object, paths: dict[str, Path]) -> None:
    """Nothing when the arrays fit together (types, sizes, offsets increasing and in range, numbers in range), else
    an IndexFileError naming the first file that does not: checked in a few passes over the arrays, before any
    compiled code indexes with them."""
    def broken(name: str, why: str) -> IndexFileError:
        return IndexFileError(f"index file {paths[name]} does not fit the rest of the index ({why}); "
                              f"{how_to_rebuild(directory, manifest)}")

    for name, dtype in _DTYPES.items():
        if arrays[name].dtype != dtype or arrays[name].ndim != (2 if name == "spans" else 1):
            raise broken(name + ".npy", f"{arrays[name].dtype} {arrays[name].shape}")
    if not isinstance(documents, list) or not all(isinstance(d, dict) and isinstance(d.get("id"), str)
                                                  and isinstance(d.get("title"), str) for d in documents):
        raise broken("documents.json", "not a list of documents")
    keys, indptr, postings = arrays["keys"], arrays["indptr"], arrays["postings"]
    n, n_docs = len(arrays["passage_doc"]), len(documents)
    checks = [
        ("keys.npy", "not sorted", len(keys) > 1 and not np.all(keys[1:] > keys[:-1])),
        ("idf.npy", "not one per term", len(arrays["idf"]) != len(keys)),
        ("peaks.npy", "not one per term", len(arrays["peaks"]) != len(keys)),
        ("indptr.npy", "not offsets of the postings",
         len(indptr) != len(keys) + 1 or indptr[0] != 0 or indptr[-1] != len(postings)
         or np.any(indptr[1:] < indptr[:-1])),
        ("weights.npy", "not one per posting", len(arrays["weights"]) != len(postings)),
        ("postings.npy", "a passage number out of range",
         len(postings) and (int(postings.max()) >= n or int(postings.min()) < 0)),
        ("passage_doc.npy", "not the counts written",
         n != manifest.get("passages") or n_docs != manifest.get("documents")),
        ("passage_doc.npy", "document numbers out of order",
         n and (arrays["passage_doc"][0] < 0 or arrays["passage_doc"][-1] >= n_docs
                or np.any(arrays["passage_doc"][1:] < arrays["passage_doc"][:-1]))),
        ("spans.npy", "not one span per passage", arrays["spans"].shape != (n, 2)),
    ]
    for blob, name in (("texts", "text_offsets"), ("folded", "folded_offsets")):
        offsets = arrays[name]
        checks.append((name + ".npy", "not offsets of the passages",
                       len(offsets) != n + 1 or offsets[0] != 0 or offsets[-1] != len(blobs[blob])
                       or np.any(offsets[1:] < offsets[:-1])))
    for name, why, failed in checks:
        if failed:
            raise broken(name, why)


def how_to_rebuild(directory: Path, manifest: dict | None = None) -> str:
    """What to run to build the index in directory again, with the sources it was built from when known."""
    sources = (manifest or {}).get("sources")
    named = " ".join(_quoted(s) for s in sources) if isinstance(sources, list) and sources and \
        all(isinstance(s, str) for s in sources) else "SOURCE ..."
    return f"rebuild it with: qa index build {named} --out {_quoted(str(directory))}"


def _quoted(text: str) -> str:
    return text if text and all(c.isalnum() or c in "/._-+:@%" for c in text) else "'" + text.replace("'", "'\\''") + "'"
