"""Shared fixtures: the built-in article indexed once per test session, in a temporary folder."""
from pathlib import Path

import pytest

from qa import index, store
from qa.search import Engine


@pytest.fixture(scope="session")
def default_index_dir(tmp_path_factory) -> Path:
    """The shipped article, built into a fresh folder so tests never depend on a leftover index."""
    directory = tmp_path_factory.mktemp("default-index")
    index.build([index.default_corpus()], directory)
    return directory


@pytest.fixture(scope="session")
def engine(default_index_dir) -> Engine:
    return Engine(store.load(default_index_dir))
