"""Vietnamese question answering over articles: BM25 passages, the best sentence, the matched words."""
from pathlib import Path

__version__ = "0.1.0"

_HERE = Path(__file__).resolve().parent


def shipped(packaged: str, checkout: str) -> Path:
    """A folder shipped with the code: inside the package once installed, at the top of a checkout."""
    inside = _HERE / packaged
    return inside if inside.is_dir() else _HERE.parent / checkout
