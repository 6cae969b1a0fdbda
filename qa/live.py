"""The collection a server answers from, kept current: between requests it looks at the collection's manifest (a
sharded collection's: its list of shards and every shard's manifest), at most every CHECK_SECONDS or at once when
asked (as on SIGHUP), and moves to a new version as a whole, loaded and checked before any question sees it. A file
damaged under it turns into IndexUnavailable, not a dead worker."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable

from . import shards, store
from .search import Engine
from .settings import CHECK_SECONDS

log = logging.getLogger(__name__)


class IndexUnavailable(Exception):
    """The collection's files were changed under the server or cannot be read: the message says which, and how to
    mend them."""


class LiveEngine:
    """An Engine that follows its collection's folder: engine() is always the newest version loaded whole.

    A sharded collection loaded in this process is followed too (a change to any shard moves it to a new version,
    the shards not changed kept as loaded); one served by Ray's deployments (qa.cluster) is served as it is.
    changeable: whether the collection is a folder this process loaded (one collection or a sharded one), followed
    and changed through /api/documents (qa.admin).
    """

    def __init__(
        self, engine: Engine, check_seconds: float = CHECK_SECONDS, clock: Callable[[], float] = time.monotonic
    ):
        self._engine, self.check_seconds, self._clock = engine, check_seconds, clock
        index = engine.index
        self.sharded = isinstance(index, shards.ShardedIndex) and isinstance(index.shards, shards.LocalShards)
        self.changeable = isinstance(index, store.Index) or self.sharded
        self.directory = index.shards.directory if self.sharded else index.directory if self.changeable else None
        self._seen = _identity(self.directory) if self.changeable else None
        self._checked = clock()
        self._lock = threading.Lock()
        self.problem: str | None = None  # why the collection cannot be answered from, if it cannot

    def engine(self) -> Engine:
        """The engine of the newest version of the collection; IndexUnavailable when its files were damaged."""
        if not self.changeable:
            return self._engine
        if self._clock() - self._checked >= self.check_seconds:
            self.refresh()
        changed = self._engine.index.changed_file()
        if changed:
            self.problem = (
                f"index file {changed} in {self.directory} was changed while being served; {self._how_to_rebuild()}"
            )
            log.error("%s", self.problem)
            self.refresh(force=True)  # a writer may have put a whole new version beside it
            if self._engine.index.changed_file():
                raise IndexUnavailable(self.problem)
        return self._engine

    @property
    def stats(self) -> dict:
        """What the version served holds, and which version it is: {"documents", "passages", "version"}."""
        engine = self._engine
        return {**engine.stats, "version": engine.index.version} if self.changeable else engine.stats

    def refresh(self, force: bool = False) -> bool:
        """Move to the collection's newest version if it changed (or, with force, if it can be loaded at all);
        returns whether it moved. A version that cannot be loaded is logged and the one served is kept."""
        with self._lock:
            self._checked = self._clock()
            seen = _identity(self.directory)
            if seen == self._seen and not force:
                return False
            try:
                index = self._loaded()
            except store.IndexFileError as error:
                self.problem = str(error)
                log.error("not moving to the changed collection in %s: %s", self.directory, error)
                self._seen = seen  # tried once; a later write changes the manifest again
                return False
            if index.version == self._engine.index.version and not self._engine.index.changed_file():
                self._seen = seen
                return False
            engine = Engine(index)
            if self._engine.index.postings.compiled:  # ranked compiled as the version served was
                if self.sharded:
                    index.postings.use_compiled()
                else:
                    index.postings.use_compiled(from_postings=0, settings=self._engine.index.postings.maxscore)
            self._engine, self._seen, self.problem = engine, seen, None
            log.info("now answering from %s version %s (%s)", self.directory, index.version, engine.stats)
            return True

    def _loaded(self) -> store.Index | shards.ShardedIndex:
        """The collection's newest version, every file checked (of a sharded one: the shards that changed)."""
        if self.sharded:
            return shards.ShardedIndex(self._engine.index.shards.reloaded())
        return store.load(self.directory, checksums=True)

    def _how_to_rebuild(self) -> str:
        index = self._engine.index
        if self.sharded:  # a shard's advice is to build the sharded collection again, with its sources
            index = index.shards.shards[0].index
        return store.how_to_rebuild(index.directory, index.manifest)


def _identity(directory: Path) -> tuple:
    """What tells a new version of the collection in directory from the one seen: its manifest's identity, or a
    sharded collection's list of shards' and every shard's manifest's."""
    if not shards.is_sharded(directory):
        return (_file_identity(directory / store.MANIFEST),)
    try:
        dirs = shards.shard_dirs(directory)
    except store.IndexFileError:  # a list being rewritten, or damaged: loading it says which
        dirs = []
    return (_file_identity(directory / shards.SHARDS), *(_file_identity(d / store.MANIFEST) for d in dirs))


def _file_identity(path: Path) -> tuple | None:
    """A file's inode, size and change time (None when there is none)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns
