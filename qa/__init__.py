"""Vietnamese question answering over articles: BM25 passages, the best sentence, the matched words.

From Python::

    from qa import open_collection
    engine = open_collection()  # the built-in article; open_collection("my-index") for a collection of yours
    print(engine.ask("Ai là Bí thư Thành ủy Chí Linh?").answers[0].sentence)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .search import Engine

__version__ = "0.1.0"

_HERE = Path(__file__).resolve().parent


def shipped(packaged: str, checkout: str) -> Path:
    """A folder shipped with the code: inside the package once installed, at the top of a checkout."""
    inside = _HERE / packaged
    return inside if inside.is_dir() else _HERE.parent / checkout


def open_collection(directory: str | Path | None = None) -> Engine:
    """An engine that answers from a collection: directory when given, else the folder $QA_INDEX names, else the
    built-in article (indexed on first use). Raises store.IndexFileError when the collection cannot be used."""
    from . import index
    from .search import Engine

    return Engine(index.collection(directory))


def __getattr__(name: str) -> object:
    """qa.Engine, imported when first asked for: commands that change a collection (qa index add, remove) load
    none of the code that answers."""
    if name == "Engine":
        from .search import Engine

        return Engine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Engine", "open_collection", "shipped"]
