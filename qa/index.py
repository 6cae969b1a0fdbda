"""Build, save and load the index: versioned plain files (JSON + .npy), written atomically, never pickled."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from . import corpus, shipped
from .bm25 import B, K1, Postings
from .corpus import Document, Passage, Skipped
from .text import ANALYSER_VERSION, analyse

log = logging.getLogger(__name__)

FORMAT = "qa-index"
VERSION = 1
MANIFEST = "manifest.json"
PARALLEL_FROM = 2000  # passages; below this, starting worker processes costs more than it saves
ARRAYS = ("keys", "idf", "indptr", "postings", "weights", "passage_doc", "spans", "text_offsets")

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
    first_passage: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.first_passage = np.searchsorted(self.passage_doc, np.arange(len(self.documents)))

    @property
    def n_passages(self) -> int:
        return len(self.passage_doc)

    def passage(self, number: int) -> Passage:
        doc_number = int(self.passage_doc[number])
        document = self.documents[doc_number]
        lo, hi = self.text_offsets[number], self.text_offsets[number + 1]
        text = self.texts[lo:hi].tobytes().decode("utf-8")
        start, end = (int(x) for x in self.spans[number])
        ordinal = number - int(self.first_passage[doc_number])
        return Passage(f"{document['id']}#{ordinal}", document["id"], document["title"], text, start, end)


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
    digest = hashlib.sha256(f"{ANALYSER_VERSION}|{corpus.MAX_PASSAGE_CHARS}|{K1}|{B}".encode())
    for path in corpus.find_sources(sources):
        try:
            stat = path.stat()
            digest.update(f"|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
        except OSError:
            digest.update(f"|{path}|missing".encode())
    return digest.hexdigest()


def _analyse_all(texts: Sequence[str], workers: int, progress: Progress | None) -> list[list[str]]:
    """Analyse passages, spread over worker processes when there are enough to be worth it."""
    done: list[list[str]] = []
    if workers <= 1 or len(texts) < PARALLEL_FROM:
        for text in texts:
            done.append(analyse(text))
            if progress and len(done) % 50 == 0:
                progress(len(done), len(texts))
    else:
        with ProcessPoolExecutor(workers) as pool:
            for terms in pool.map(analyse, texts, chunksize=64):
                done.append(terms)
                if progress and len(done) % 500 == 0:
                    progress(len(done), len(texts))
    if progress:
        progress(len(done), len(texts))
    return done


def build(sources: Sequence[Path], out: Path, workers: int | None = None,
          progress: Progress | None = None) -> BuildReport:
    """Read the sources and index them; files that give no document are reported, not fatal."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for item in corpus.read_documents(sources):
        (skipped if isinstance(item, Skipped) else documents).append(item)
    for problem in skipped:
        log.info("skipped %s: %s", problem.source, problem.reason)
    report = build_documents(documents, out, workers, progress, {
        "fingerprint": fingerprint(sources),
        "sources": [str(Path(s).resolve()) for s in sources],
    })
    report.skipped = skipped
    return report


def build_documents(documents: Sequence[Document], out: Path, workers: int | None = None,
                    progress: Progress | None = None, info: dict | None = None) -> BuildReport:
    """Chunk, analyse and score documents, then save: the previous index stays usable until the end."""
    started = time.perf_counter()
    passages = [(d, p) for d, document in enumerate(documents) for p in corpus.passages(document)]
    terms = _analyse_all([p.text for _, p in passages], workers or os.cpu_count() or 1, progress)
    title_terms = _analyse_all([document.title for document in documents], workers or os.cpu_count() or 1, None)
    # A passage is also about its document's title: "Tesla" names the subject of every paragraph on Tesla.
    terms = [passage_terms + title_terms[d] for passage_terms, (d, _) in zip(terms, passages)]
    postings = Postings.build(terms)
    blobs = [p.text.encode("utf-8") for _, p in passages]
    arrays = {
        "keys": postings.keys, "idf": postings.idf, "indptr": postings.indptr,
        "postings": postings.passage, "weights": postings.weight,
        "passage_doc": np.array([d for d, _ in passages], dtype=np.int32).reshape(-1),
        "spans": np.array([(p.start, p.end) for _, p in passages], dtype=np.int64).reshape(-1, 2),
        "text_offsets": np.concatenate([[0], np.cumsum([len(b) for b in blobs], dtype=np.int64)]),
    }
    meta = [{"id": d.id, "title": d.title, "date": d.date, "url": d.url, "source": d.source} for d in documents]
    _save(out, arrays, b"".join(blobs), meta,
          {**(info or {}), "documents": len(documents), "passages": len(passages)})
    return BuildReport(len(documents), len(passages), seconds=time.perf_counter() - started)


def _save(out: Path, arrays: dict[str, np.ndarray], texts: bytes, documents: list[dict], info: dict) -> None:
    """Write this build's files under fresh names, then switch the manifest to them in one rename."""
    out.mkdir(parents=True, exist_ok=True)
    build_id = uuid.uuid4().hex[:12]
    written: dict[str, dict] = {}

    def write(name: str, data: bytes) -> None:
        filename = f"{name}.{build_id}"
        with open(out / filename, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        written[name] = {"file": filename, "bytes": len(data)}

    for name, array in arrays.items():
        write(name + ".npy", _npy_bytes(array))
    write("texts.bin", texts)
    write("documents.json", json.dumps(documents, ensure_ascii=False).encode("utf-8"))
    manifest = {"format": FORMAT, "version": VERSION, "analyser": ANALYSER_VERSION, "k1": K1, "b": B,
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **info, "files": written}
    temporary = out / f"{MANIFEST}.{build_id}.tmp"
    temporary.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, out / MANIFEST)
    _remove_other_builds(out, {entry["file"] for entry in written.values()})


def _npy_bytes(array: np.ndarray) -> bytes:
    from io import BytesIO

    buffer = BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def _remove_other_builds(out: Path, keep: set[str]) -> None:
    """Files of earlier or abandoned builds: ours by name, and not the ones the manifest now names."""
    names = ARRAYS + ("texts", "documents", MANIFEST.split(".")[0])
    for path in out.iterdir():
        if path.name not in keep and path.name != MANIFEST and path.name.split(".")[0] in names:
            path.unlink(missing_ok=True)


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
        entries = {name: manifest["files"][name] for name in [a + ".npy" for a in ARRAYS] + ["texts.bin",
                                                                                              "documents.json"]}
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
    texts = np.memmap(paths["texts.bin"], dtype=np.uint8, mode="r") if entries["texts.bin"]["bytes"] else \
        np.zeros(0, dtype=np.uint8)
    try:
        documents = json.loads(paths["documents.json"].read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise IndexFileError(f"index file {paths['documents.json']} is corrupt ({error}); "
                             f"{_how_to_rebuild(directory)}") from None
    index = Index(directory, manifest, documents,
                  Postings(arrays["keys"], arrays["idf"], arrays["indptr"], arrays["postings"], arrays["weights"],
                           len(arrays["passage_doc"])),
                  arrays["passage_doc"], arrays["spans"], arrays["text_offsets"], texts)
    _check_consistent(index, paths)
    return index


def _load_array(path: Path, directory: Path) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise IndexFileError(f"index file {path} is corrupt ({error}); {_how_to_rebuild(directory)}") from None


def _check_consistent(index: Index, paths: dict[str, Path]) -> None:
    """Cheap checks that the arrays belong together, so a corrupt file fails here and not mid-answer."""
    p = index.postings
    problems = [
        ("keys.npy", len(p.keys) != len(p.idf) or len(p.indptr) != len(p.keys) + 1),
        ("indptr.npy", len(p.indptr) and (p.indptr[0] != 0 or p.indptr[-1] != len(p.passage))),
        ("weights.npy", len(p.weight) != len(p.passage)),
        ("postings.npy", len(p.passage) and (int(p.passage.max()) >= p.n_passages or int(p.passage.min()) < 0)),
        ("passage_doc.npy", len(index.passage_doc) != index.manifest.get("passages")
         or len(index.documents) != index.manifest.get("documents")),
        ("spans.npy", index.spans.shape != (index.n_passages, 2)),
        ("text_offsets.npy", len(index.text_offsets) != index.n_passages + 1
         or int(index.text_offsets[-1]) != len(index.texts)),
    ]
    for name, broken in problems:
        if broken:
            raise IndexFileError(f"index file {paths[name]} does not match the rest of the index; "
                                 f"{_how_to_rebuild(index.directory)}")


def _how_to_rebuild(directory: Path) -> str:
    return f"rebuild it with: qa index build [SOURCE ...] --out {directory}"


def ensure(directory: Path, sources: Sequence[Path] | None = None, progress: Progress | None = None) -> Index:
    """The index in directory, rebuilt first when missing or when its sources have changed since."""
    manifest = None if sources and not (directory / MANIFEST).exists() else read_manifest(directory)
    if manifest is not None and sources is None:
        recorded = [Path(s) for s in manifest.get("sources", [])]
        sources = recorded if recorded and all(s.exists() for s in recorded) else None
    stale = manifest is None or manifest.get("analyser") != ANALYSER_VERSION or (
        sources is not None and manifest.get("fingerprint") != fingerprint(sources))
    if stale and sources:
        log.info("index in %s is missing or stale: rebuilding from %d source(s)", directory, len(sources))
        build(sources, directory, progress=progress)
    return load(directory)
