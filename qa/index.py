"""Build, save and load the index: versioned plain files (JSON + .npy), written atomically, never pickled."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Sequence

import numpy as np

from . import corpus, shipped
from .bm25 import B, K1, Postings, term_hash
from .corpus import Document, Passage, Skipped, passage_id
from .settings import ANALYSIS_BATCH, PARALLEL_FROM
from .text import ANALYSER_VERSION, analyse

log = logging.getLogger(__name__)

FORMAT = "qa-index"
VERSION = 4  # 2: peaks.npy; 3: folded.bin; 4: sentence breaks marked in folded.bin
MANIFEST = "manifest.json"
ARRAYS = ("keys", "idf", "indptr", "postings", "weights", "peaks", "passage_doc", "spans", "text_offsets",
          "folded_offsets")
BLOBS = ("texts", "folded")  # .bin: passages' text, and folded for matching (corpus.folded_sentences), UTF-8
# Each analysed text's terms (as rows of keys) and counts, by text key: a rebuild analyses only what changed.
ANALYSIS = ("analysis_texts", "analysis_indptr", "analysis_terms", "analysis_counts")
# The key of the draft each document was made from: a rebuild takes an unchanged document's passages as they are.
DRAFTS = "document_drafts"

Progress = Callable[[int, int], None]


class IndexFileError(Exception):
    """An index file is missing, truncated or corrupt: the message names it and says how to rebuild."""


@dataclass
class BuildReport:
    documents: int
    passages: int
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0


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
    first_passage: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.first_passage = np.searchsorted(self.passage_doc, np.arange(len(self.documents)))

    @property
    def n_passages(self) -> int:
        return len(self.passage_doc)

    def passage(self, number: int) -> Passage:
        doc_number = self.passage_doc.item(number)
        document = self.documents[doc_number]
        text = _blob_item(self.texts, self.text_offsets, number)
        start, end = self.spans[number].tolist()
        ordinal = number - self.first_passage.item(doc_number)
        return Passage(passage_id(document["id"], ordinal), document["id"], document["title"], text, start, end)

    def folded_text(self, number: int) -> str:
        """A passage's text lowercased and folded, spaces between its syllables and newlines between its sentences:
        what answers are matched in (corpus.folded_sentences)."""
        return _blob_item(self.folded, self.folded_offsets, number)

    def document_range(self, doc_number: int) -> tuple[int, int]:
        """The numbers of a document's first passage and of the one after its last."""
        last = int(self.first_passage[doc_number + 1]) if doc_number + 1 < len(self.documents) else self.n_passages
        return int(self.first_passage[doc_number]), last

    def document_passages(self, doc_number: int) -> list[Passage]:
        """All the passages of a document, its text read once: what passage() gives, a thousand at a time."""
        document = self.documents[doc_number]
        first, last = self.document_range(doc_number)
        texts = _blob_slices(self.texts, self.text_offsets, first, last)
        return [Passage(passage_id(document["id"], i), document["id"], document["title"], text.decode("utf-8"), start,
                        end)
                for i, (text, (start, end)) in enumerate(zip(texts, self.spans[first:last].tolist()))]

    def document_folded(self, doc_number: int) -> list[bytes]:
        """The folded texts of a document's passages, as stored (UTF-8)."""
        return _blob_slices(self.folded, self.folded_offsets, *self.document_range(doc_number))


def _blob_item(blob: np.ndarray, offsets: np.ndarray, number: int) -> str:
    """Item number of a UTF-8 blob cut at offsets."""
    return blob[offsets.item(number):offsets.item(number + 1)].tobytes().decode("utf-8")


def _blob_offsets(items: Sequence[bytes]) -> np.ndarray:
    """Where each item starts in the items put together, and where the last ends."""
    return np.concatenate([[0], np.cumsum([len(item) for item in items], dtype=np.int64)])


def _blob_slices(blob: np.ndarray, offsets: np.ndarray, first: int, last: int) -> list[bytes]:
    """Items first to last (not included) of a blob cut at offsets, read in one slice."""
    at = offsets[first:last + 1].tolist()
    whole = blob[at[0]:at[-1]].tobytes()
    return [whole[a - at[0]:b - at[0]] for a, b in zip(at, at[1:])]


def default_corpus() -> Path:
    """The article the service ships with (index/corpus in a checkout, inside the package once installed)."""
    return shipped("corpus_default", "index/corpus")


def default_index_dir() -> Path:
    """Beside the default corpus when that is writable, else in the user's cache."""
    beside = default_corpus().parent / "built"
    if os.access(beside if beside.exists() else beside.parent, os.W_OK):
        return beside
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "qa-vi" / "default-index"


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
    fields = [corpus.READER_VERSION, corpus.MAX_PASSAGE_CHARS, draft.id, draft.title, draft.date, draft.url, draft.lines]
    digest = hashlib.blake2b(json.dumps(fields).encode("ascii"), digest_size=8).digest()  # JSON: unambiguous
    return int.from_bytes(digest, "little") or 1


def text_key(texts: Sequence[str]) -> np.ndarray:
    """64-bit key of each text as this analyser reads it: a text analysed once need not be analysed again."""
    prefix = f"{ANALYSER_VERSION}\x00".encode()
    digests = b"".join(hashlib.blake2b(prefix + t.encode("utf-8"), digest_size=8).digest() for t in texts)
    return np.frombuffer(digests, dtype="<u8").copy()


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
        vocab = vocab[np.append(True, vocab[1:] != vocab[:-1])] if len(vocab) else vocab  # np.unique is 5x slower
        sizes = np.concatenate([np.diff(p.indptr) for p in parts] + [np.zeros(0, np.int64)])
        return cls(vocab, np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
                   np.concatenate([np.searchsorted(vocab, p.vocab).astype(np.int32)[p.terms] for p in parts]
                                  + [np.zeros(0, np.int32)]),
                   np.concatenate([p.counts for p in parts] + [np.zeros(0, np.int32)]))

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


def _analyse_chunk(texts: Sequence[str]) -> Bags:
    """Analyse some texts in a worker: what goes back is a few arrays, not a list of strings per text."""
    ids: dict[str, int] = {}
    sizes, terms, counts = [], [], []
    for text in texts:
        bag = Counter(analyse(text))
        sizes.append(len(bag))
        terms += [ids.setdefault(term, len(ids)) for term in bag]
        counts += bag.values()
    vocab, rows = np.unique(term_hash(list(ids)), return_inverse=True)
    return Bags(vocab, np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
                rows.astype(np.int32)[np.array(terms, dtype=np.int64)], np.array(counts, dtype=np.int32))


def _analyse_all(texts: Sequence[str], workers: int, progress: Progress | None,
                 ready: ProcessPoolExecutor | None = None) -> Bags:
    """Analyse texts in chunks, spread over worker processes when there are enough to be worth it, else in the
    worker made ready for a rebuild (_ready_worker) if there is one."""
    chunks = [texts[i:i + ANALYSIS_BATCH] for i in range(0, len(texts), ANALYSIS_BATCH)]
    done: list[Bags] = []
    parallel = workers > 1 and len(texts) >= PARALLEL_FROM
    with ProcessPoolExecutor(min(workers, len(chunks))) if parallel else nullcontext(ready) as pool:
        for bags in pool.map(_analyse_chunk, chunks) if pool else map(_analyse_chunk, chunks):
            done.append(bags)
            if progress:
                progress(min(len(done) * ANALYSIS_BATCH, len(texts)), len(texts))
    if progress and not texts:
        progress(0, 0)
    return Bags.concat(done)


def _previous_analysis(out: Path) -> tuple[np.ndarray, Bags]:
    """Text keys and bags saved with the index in out; none when there is no index or it is damaged (never fatal)."""
    nothing = (np.zeros(0, np.uint64), Bags.concat([]))
    manifest = _any_manifest(out)  # an index of an older format still has texts worth not analysing again
    if manifest is None or manifest.get("analyser") != ANALYSER_VERSION:
        return nothing
    try:
        arrays = {}
        for name in ANALYSIS + ("keys",):
            entry = manifest["files"][name + ".npy"]
            path = out / entry["file"]
            if path.stat().st_size != entry["bytes"]:
                raise ValueError(f"{path} is not the size written")
            arrays[name] = np.load(path, mmap_mode="r", allow_pickle=False)
        keys, texts, indptr = arrays["keys"], arrays["analysis_texts"], arrays["analysis_indptr"]
        rows, counts = arrays["analysis_terms"], arrays["analysis_counts"]
        if (texts.dtype != np.uint64 or keys.dtype != np.uint64 or rows.dtype != np.int32
                or np.any(texts[1:] <= texts[:-1]) or len(indptr) != len(texts) + 1 or indptr[0] != 0
                or indptr[-1] != len(rows) or len(counts) != len(rows) or np.any(np.diff(indptr) < 0)
                or (len(rows) and (rows.min() < 0 or rows.max() >= len(keys) or counts.min() < 1))):
            raise ValueError("its arrays do not fit together")
        return np.array(texts), Bags(np.array(keys), np.array(indptr, dtype=np.int64), np.array(rows),
                                     np.array(counts, dtype=np.int32))
    except (KeyError, TypeError, ValueError, OSError, EOFError) as error:
        log.warning("not reusing the analysis saved in %s (%s): analysing every text again", out, error)
        return nothing


def _texts(passages: list[str], titles: list[str], passage_doc: np.ndarray) -> list[str]:
    """What is analysed: the passages, then the title of each document that has passages."""
    return passages + [titles[d] for d in np.unique(passage_doc)]


def _passage_bags(analysis: Bags, where: np.ndarray, passage_doc: np.ndarray) -> tuple[np.ndarray, ...]:
    """(keys, term row, passage, count): each passage's terms and its title's (where: the bag of each of _texts).

    A passage is also about its document's title: "Tesla" names the subject of every paragraph on Tesla.
    """
    n = len(passage_doc)
    title_of = np.zeros(int(passage_doc.max(initial=0)) + 1, dtype=np.int64)
    title_of[np.unique(passage_doc)] = where[n:]
    bags = analysis.take(np.column_stack([where[:n], title_of[passage_doc]]).reshape(-1))
    owner = np.repeat(np.repeat(np.arange(n, dtype=np.int32), 2), np.diff(bags.indptr))
    return bags.vocab, bags.terms, owner, bags.counts


def passage_terms(index: Index) -> list[list[int]]:
    """Each passage as the rows of the terms the index scored, a term as often as it occurs: to run other BM25
    code (rank-bm25, bm25s) on the very same terms."""
    texts = _texts([index.passage(i).text for i in range(index.n_passages)],
                   [d["title"] for d in index.documents], index.passage_doc)
    keys = text_key(texts)
    saved_keys, saved = _previous_analysis(index.directory)
    where = np.minimum(np.searchsorted(saved_keys, keys), max(len(saved_keys) - 1, 0))
    if len(keys) and (not len(saved_keys) or np.any(saved_keys[where] != keys)):
        raise IndexFileError(f"the analysis saved in {index.directory} is missing or does not match the index; "
                             f"{_how_to_rebuild(index.directory)}")
    vocab, rows, owner, counts = _passage_bags(saved, where, index.passage_doc)
    tokens = np.repeat(np.searchsorted(index.postings.keys, vocab)[rows], counts)
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
    record = {"id": document.id, "title": document.title, "date": document.date, "url": document.url,
              "source": document.source}
    return Chunked(record, corpus.passages(document), draft)


def build(sources: Sequence[Path], out: Path, workers: int | None = None,
          progress: Progress | None = None) -> BuildReport:
    """Read the sources and index them; files that give no document are reported, not fatal.

    A document read exactly as for the index already in out is taken from it, not cleaned and cut again.
    """
    previous, known = _previous_drafts(out)
    with _ready_worker(previous, workers or os.cpu_count() or 1) as ready:
        chunked, skipped = _chunked(sources, previous, known)
        report = _build(chunked, out, workers, progress, {
            "fingerprint": fingerprint(sources),
            "sources": [str(Path(s).resolve()) for s in sources],
        }, ready)
    report.skipped = skipped
    return report


def _ready_worker(previous: Index | None, workers: int) -> ProcessPoolExecutor | nullcontext:
    """For the rebuild of a large corpus, a worker process that loads underthesea's model (half a second) while
    the documents are read: the few that changed are then analysed without waiting for it."""
    if previous is None or previous.n_passages < PARALLEL_FROM or workers < 2:
        return nullcontext()
    worker = ProcessPoolExecutor(1, initializer=analyse, initargs=("khởi động",))
    worker.submit(int)  # started now, not when the first text is sent
    return worker


def _chunked(sources: Sequence[Path], previous: Index | None,
             known: dict[int, int]) -> tuple[list[Chunked], list[Skipped]]:
    """The documents of the sources, those read exactly as for the previous index taken from it, and the files
    that give none."""
    chunked: list[Chunked] = []
    skipped: list[Skipped] = []
    for item in corpus.read_drafts(sources):
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
    """The index in out and, by draft key, the number of each of its documents; none when it cannot be read."""
    try:
        previous = load(out)
        entry = previous.manifest["files"][DRAFTS + ".npy"]
        keys = _load_array(out / entry["file"], out)
        if keys.dtype != np.uint64 or len(keys) != len(previous.documents):
            raise IndexFileError(f"{entry['file']} does not match the documents")
    except (IndexFileError, KeyError, TypeError) as error:
        if _any_manifest(out) is not None:
            log.warning("not reusing the documents of %s (%s): reading every one again", out, error)
        return None, {}
    return previous, {key: number for number, key in enumerate(keys.tolist()) if key}


def _reuse(previous: Index, number: int, source: str, key: int) -> Chunked:
    """Document number of the previous index as it was, but for where it was read from this time."""
    return Chunked({**previous.documents[number], "source": source}, previous.document_passages(number), key,
                   previous.document_folded(number))


def build_documents(documents: Sequence[Document], out: Path, workers: int | None = None,
                    progress: Progress | None = None, info: dict | None = None) -> BuildReport:
    """Index documents made in memory (no drafts: none is reused, though the analysis of their texts is)."""
    return _build([chunk(d) for d in documents], out, workers, progress, info)


def _build(documents: Sequence[Chunked], out: Path, workers: int | None = None, progress: Progress | None = None,
           info: dict | None = None, ready: ProcessPoolExecutor | None = None) -> BuildReport:
    """Analyse and score chunked documents, then save: the previous index stays usable until the end.

    Texts analysed for the index already in out (same text, same analyser) are not analysed again.
    """
    started = time.perf_counter()
    passages = [(d, p) for d, document in enumerate(documents) for p in document.passages]
    passage_doc = np.array([d for d, _ in passages], dtype=np.int32).reshape(-1)
    texts = _texts([p.text for _, p in passages], [d.record["title"] for d in documents], passage_doc)
    distinct, first, where = np.unique(text_key(texts), return_index=True, return_inverse=True)
    known_keys, known = _previous_analysis(out)
    at = np.minimum(np.searchsorted(known_keys, distinct), max(len(known_keys) - 1, 0))
    found = (known_keys[at] == distinct) if len(known_keys) else np.zeros(len(distinct), dtype=bool)
    log.info("analysing %d texts, reusing the analysis of %d", len(first) - int(found.sum()), int(found.sum()))
    every = Bags.concat([known, _analyse_all([texts[i] for i in first[~found]], workers or os.cpu_count() or 1,
                                             progress, ready)])
    del known
    # The bag of each distinct text, in key order, without the terms of texts gone since the last build.
    analysis = every.take(np.where(found, at, len(known_keys) + np.cumsum(~found) - 1)).pruned()
    del every
    postings = Postings.from_bags(*_passage_bags(analysis, where, passage_doc), len(passages))
    blobs = [p.text.encode("utf-8") for _, p in passages]
    folded = [f for d in documents
              for f in (d.folded if d.folded is not None else
                        [corpus.folded_sentences(p.text).encode("utf-8") for p in d.passages])]
    arrays = {
        "keys": postings.keys, "idf": postings.idf, "indptr": postings.indptr,
        "postings": postings.passage, "weights": postings.weight, "peaks": postings.peak, "passage_doc": passage_doc,
        "spans": np.array([(p.start, p.end) for _, p in passages], dtype=np.int64).reshape(-1, 2),
        "text_offsets": _blob_offsets(blobs), "folded_offsets": _blob_offsets(folded),
        # Every term of the analysis is in some passage, so its vocabulary is the index's: rows of keys.
        "analysis_texts": distinct, "analysis_indptr": analysis.indptr, "analysis_terms": analysis.terms,
        "analysis_counts": analysis.counts, DRAFTS: np.array([d.draft for d in documents], dtype=np.uint64),
    }
    _save(out, arrays, {"texts": b"".join(blobs), "folded": b"".join(folded)}, [d.record for d in documents],
          {**(info or {}), "documents": len(documents), "passages": len(passages)})
    return BuildReport(len(documents), len(passages), seconds=time.perf_counter() - started)


def _save(out: Path, arrays: dict[str, np.ndarray], blobs: dict[str, bytes], documents: list[dict], info: dict) -> None:
    """Write this build's files under fresh names, then switch the manifest to them in one rename."""
    out.mkdir(parents=True, exist_ok=True)
    build_id = uuid.uuid4().hex[:12]
    written: dict[str, dict] = {}

    def write(name: str, dump: Callable[[BinaryIO], object]) -> None:
        filename = f"{name}.{build_id}"
        with open(out / filename, "wb") as handle:
            dump(handle)
            handle.flush()
            os.fsync(handle.fileno())
            written[name] = {"file": filename, "bytes": handle.tell()}

    for name, array in arrays.items():
        write(name + ".npy", lambda handle: _write_npy(handle, array))
    for name, blob in blobs.items():
        write(name + ".bin", lambda handle: handle.write(blob))
    write("documents.json", lambda handle: handle.write(json.dumps(documents, ensure_ascii=False).encode("utf-8")))
    manifest = {"format": FORMAT, "version": VERSION, "analyser": ANALYSER_VERSION, "k1": K1, "b": B,
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **info, "files": written}
    temporary = out / f"{MANIFEST}.{build_id}.tmp"
    temporary.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, out / MANIFEST)
    _remove_other_builds(out, {entry["file"] for entry in written.values()})


def _write_npy(handle: BinaryIO, array: np.ndarray) -> None:
    np.save(handle, np.ascontiguousarray(array), allow_pickle=False)


def _remove_other_builds(out: Path, keep: set[str]) -> None:
    """Files of earlier or abandoned builds: ours by name, and not the ones the manifest now names."""
    names = ARRAYS + ANALYSIS + BLOBS + (DRAFTS, "documents", MANIFEST.split(".")[0])
    for path in out.iterdir():
        if path.name not in keep and path.name != MANIFEST and path.name.split(".")[0] in names:
            path.unlink(missing_ok=True)


def _any_manifest(directory: Path) -> dict | None:
    """The manifest in directory whatever its format version, or None: enough to tell what to rebuild or reuse."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("format") == FORMAT else None


def read_manifest(directory: Path) -> dict:
    path = directory / MANIFEST
    if not path.exists():
        raise IndexFileError(f"no index in {directory} ({MANIFEST} is missing); {_how_to_rebuild(directory)}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise IndexFileError(f"{path} is unreadable or corrupt ({error}); {_how_to_rebuild(directory)}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexFileError(f"{path} is not a qa index manifest; {_how_to_rebuild(directory)}")
    if manifest.get("version") != VERSION:
        raise IndexFileError(f"{path} is index format version {manifest.get('version')}, this qa reads "
                             f"{VERSION}; {_how_to_rebuild(directory)}")
    return manifest


def load(directory: Path) -> Index:
    """Open a saved index memory-mapped, checking every file so a damaged one is named, not half-read."""
    manifest = read_manifest(directory)
    try:
        entries = {name: manifest["files"][name]
                   for name in [a + ".npy" for a in ARRAYS] + [b + ".bin" for b in BLOBS] + ["documents.json"]}
    except (KeyError, TypeError):
        raise IndexFileError(f"{directory / MANIFEST} does not list the index files; "
                             f"{_how_to_rebuild(directory)}") from None
    paths = {}
    for name, entry in entries.items():
        path = directory / str(entry.get("file"))
        size = path.stat().st_size if path.is_file() else None
        if size != entry.get("bytes"):
            state = "missing" if size is None else f"{size} bytes where {entry.get('bytes')} were written"
            raise IndexFileError(f"index file {path} is {state}; {_how_to_rebuild(directory)}")
        paths[name] = path
    arrays = {name: _load_array(paths[name + ".npy"], directory) for name in ARRAYS}
    blobs = {name: np.memmap(paths[name + ".bin"], dtype=np.uint8, mode="r").view(np.ndarray)
             if entries[name + ".bin"]["bytes"] else np.zeros(0, dtype=np.uint8) for name in BLOBS}
    try:
        documents = json.loads(paths["documents.json"].read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise IndexFileError(f"index file {paths['documents.json']} is corrupt ({error}); "
                             f"{_how_to_rebuild(directory)}") from None
    index = Index(directory, manifest, documents,
                  Postings(arrays["keys"], arrays["idf"], arrays["indptr"], arrays["postings"], arrays["weights"],
                           arrays["peaks"],
                           len(arrays["passage_doc"])),
                  arrays["passage_doc"], arrays["spans"], arrays["text_offsets"], blobs["texts"],
                  arrays["folded_offsets"], blobs["folded"])
    _check_consistent(index, paths)
    return index


def _load_array(path: Path, directory: Path) -> np.ndarray:
    try:
        # A plain ndarray view of the map: the np.memmap subclass costs ~20 µs on every slice taken while scoring.
        return np.load(path, mmap_mode="r", allow_pickle=False).view(np.ndarray)
    except (ValueError, OSError, EOFError) as error:
        raise IndexFileError(f"index file {path} is corrupt ({error}); {_how_to_rebuild(directory)}") from None


def _check_consistent(index: Index, paths: dict[str, Path]) -> None:
    """Cheap checks that the arrays belong together, so a corrupt file fails here and not mid-answer."""
    p = index.postings
    problems = [
        ("keys.npy", len(p.keys) != len(p.idf) or len(p.indptr) != len(p.keys) + 1),
        ("indptr.npy", len(p.indptr) and (p.indptr[0] != 0 or p.indptr[-1] != len(p.passage))),
        ("weights.npy", len(p.weight) != len(p.passage)),
        ("peaks.npy", len(p.peak) != len(p.keys)),
        ("postings.npy", len(p.passage) and (int(p.passage.max()) >= p.n_passages or int(p.passage.min()) < 0)),
        ("passage_doc.npy", len(index.passage_doc) != index.manifest.get("passages")
         or len(index.documents) != index.manifest.get("documents")),
        ("spans.npy", index.spans.shape != (index.n_passages, 2)),
        ("text_offsets.npy", len(index.text_offsets) != index.n_passages + 1
         or int(index.text_offsets[-1]) != len(index.texts)),
        ("folded_offsets.npy", len(index.folded_offsets) != index.n_passages + 1
         or int(index.folded_offsets[-1]) != len(index.folded)),
    ]
    for name, broken in problems:
        if broken:
            raise IndexFileError(f"index file {paths[name]} does not match the rest of the index; "
                                 f"{_how_to_rebuild(index.directory)}")


def _how_to_rebuild(directory: Path) -> str:
    return f"rebuild it with: qa index build [SOURCE ...] --out {directory}"


def ensure(directory: Path, sources: Sequence[Path] | None = None, progress: Progress | None = None) -> Index:
    """The index in directory, rebuilt first when missing, of another format or analyser, or older than its sources.

    Without sources, the ones the index was built from are used when they still exist; with none, an index
    that cannot be loaded is reported (IndexFileError), not rebuilt.
    """
    manifest = _any_manifest(directory)
    if manifest is not None and sources is None:
        recorded = [Path(s) for s in manifest.get("sources", []) if isinstance(s, str)]
        sources = recorded if recorded and all(s.exists() for s in recorded) else None
    stale = manifest is None or manifest.get("version") != VERSION or manifest.get("analyser") != ANALYSER_VERSION \
        or (sources is not None and manifest.get("fingerprint") != fingerprint(sources))
    if stale and sources:
        log.info("index in %s is missing or stale: rebuilding from %d source(s)", directory, len(sources))
        build(sources, directory, progress=progress)
    return load(directory)
