"""The collection a server answers from, kept current: between requests it looks at the collection's manifest (at
most every CHECK_SECONDS, or at once when asked, as on SIGHUP) and moves to a new version as a whole, loaded and
checked before any question sees it. A file damaged under it turns into IndexUnavailable, not a dead worker."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable

from . import store
from .search import Engine
from .settings import CHECK_SECONDS

log = logging.getLogger(__name__)


class IndexUnavailable(Exception):
    """The collection's files were changed under the server or cannot be read: the message says which, and how to
    mend them."""


class LiveEngine:
    """An Engine that follows its collection's folder: engine() is always the newest version loaded whole.

    A collection that is not one folder of segments (a sharded one, qa.shards) is served as it is.
    """

    def __init__(
        self, engine: Engine, check_seconds: float = CHECK_SECONDS, clock: Callable[[], float] = time.monotonic
    ):
        self._engine, self.check_seconds, self._clock = engine, check_seconds, clock
        self.follows = isinstance(engine.index, store.Index)
        self.directory = engine.index.directory if self.follows else None
        self._seen = _manifest_identity(self.directory) if self.follows else None
        self._checked = clock()
        self._lock = threading.Lock()
        self.problem: str | None = None  # why the collection cannot be answered from, if it cannot

    def engine(self) -> Engine:
        """The engine of the newest version of the collection; IndexUnavailable when its files were damaged."""
        if not self.follows:
            return self._engine
        if self._clock() - self._checked >= self.check_seconds:
            self.refresh()
        changed = self._engine.index.changed_file()
        if changed:
            self.problem = (
                f"index file {changed} in {self.directory} was changed while being served; "
                f"{store.how_to_rebuild(self.directory, self._engine.index.manifest)}"
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
        return {**engine.stats, "version": engine.index.version} if self.follows else engine.stats

    def refresh(self, force: bool = False) -> bool:
        """Move to the collection's newest version if it changed (or, with force, if it can be loaded at all);
        returns whether it moved. A version that cannot be loaded is logged and the one served is kept."""
        with self._lock:
            self._checked = self._clock()
            seen = _manifest_identity(self.directory)
            if seen == self._seen and not force:
                return False
            try:
                index = store.load(self.directory, checksums=True)
            except store.IndexFileError as error:
                self.problem = str(error)
                log.error("not moving to the changed collection in %s: %s", self.directory, error)
                self._seen = seen  # tried once; a later write changes the manifest again
                return False
            if index.version == self._engine.index.version and not self._engine.index.changed_file():
                self._seen = seen
                return False
            engine = Engine(index)
            if self._engine.index.postings.compiled:
                index.postings.use_compiled(from_postings=0, settings=self._engine.index.postings.maxscore)
            self._engine, self._seen, self.problem = engine, seen, None
            log.info("now answering from %s version %s (%s)", self.directory, index.version, engine.stats)
            return True


def _manifest_identity(directory: Path) -> tuple | None:
    """What tells a new manifest from the one seen: its inode, size and change time (None when there is none)."""
    try:
        stat = os.stat(directory / store.MANIFEST)
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns
