"""Vietnamese question answering over articles: BM25 passages, the best sentence, the matched words.

From Python::

    from qa import open_collection
    engine = open_collection()  # the built-in article; open_collection("my-index") for a collection of yours
    print(engine.ask("Ai là Bí thư Thành ủy Chí Linh?").answers[0].sentence)
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

_HERE = Path(__file__).resolve().parent


def shipped(packaged: str, checkout: str) -> Path:
    """A folder shipped with the code: inside the package once installed, at the top of a checkout."""
    inside = _HERE / packaged
    return inside if inside.is_dir() else _HERE.parent / checkout


def open_collection(directory: str | Path | None = None) -> Engine:
    """An engine that answers from a collection: directory when given, else the folder $QA_INDEX names, else the
    built-in article (indexed on first use). Raises store.IndexFileError when the collection cannot be used."""
    return Engine(index.collection(directory))


from . import index  # noqa: E402  (below shipped(), which index uses while it is imported)
from .search import Engine  # noqa: E402

__all__ = ["Engine", "open_collection", "shipped"]
