"""Shared fixtures: the built-in article indexed once per test session, in a temporary folder, and real servers."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from small_article import ARTICLE

from qa import index, store
from qa.search import Engine


@pytest.fixture
def source(tmp_path) -> Path:
    """A folder holding one small article, bai.txt (tests/small_article.py)."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "bai.txt").write_text(ARTICLE, encoding="utf-8")
    return folder


@pytest.fixture
def built(tmp_path, source) -> Path:
    """The folder of an index built from source."""
    out = tmp_path / "idx"
    index.build([source], out)
    return out


@pytest.fixture(scope="session")
def default_index_dir(tmp_path_factory) -> Path:
    """The shipped article, built into a fresh folder so tests never depend on a leftover index."""
    directory = tmp_path_factory.mktemp("default-index")
    index.build([index.default_corpus()], directory)
    return directory


@pytest.fixture(scope="session")
def engine(default_index_dir) -> Engine:
    return Engine(store.load(default_index_dir))


@pytest.fixture(scope="session")
def make_engine(tmp_path_factory):
    """An engine over small documents made in memory: make_engine(["text", ...]) titles them "Bài 0", "Bài 1"...,
    make_engine([("title", "text"), ...]) as given; document i's id is "d<i>"."""

    def make(texts: list) -> Engine:
        from qa.corpus import make_document

        pairs = [t if isinstance(t, tuple) else (f"Bài {i}", t) for i, t in enumerate(texts)]
        documents = [make_document(f"d{i}", [text], "test", title=title) for i, (title, text) in enumerate(pairs)]
        directory = tmp_path_factory.mktemp("small-index")
        index.build_documents(documents, directory)
        return Engine(store.load(directory))

    return make


@pytest.fixture(scope="session")
def start_server():
    """Start `qa serve` on a collection: start(index_dir, logs, *options, env=...) gives a running Server; every
    one still running is stopped at the end of the session."""
    started = []

    def start(index_dir: Path, logs: Path, *options: str, env: dict | None = None) -> "Server":
        started.append(Server(index_dir, logs, *options, env=env))
        return started[-1]

    yield start
    for running in started:
        if running.process.poll() is None:
            running.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`python -m qa.cli serve` on a free loopback port, output kept in files (a full pipe would block it)."""

    def __init__(self, index_dir: Path, logs: Path, *options: str, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stdout, self.stderr = logs / "stdout.txt", logs / "stderr.txt"
        command = [
            sys.executable,
            "-m",
            "qa.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--index",
            str(index_dir),
            *options,
        ]
        with open(self.stdout, "w") as out, open(self.stderr, "w") as err:
            # Ctrl-C back to its default: a runner started in the background may have it ignored.
            self.process = subprocess.Popen(
                command,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            )
        self._wait_until_healthy()

    def _wait_until_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"qa serve exited with {self.process.returncode}: {self.stderr.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.process.kill()
        pytest.fail(f"qa serve did not answer /healthz within {timeout} s: {self.stderr.read_text()}")

    def stop(self, how: int = signal.SIGINT, timeout: float = 15) -> int:
        """Stop it as a person (Ctrl-C) or a supervisor (SIGTERM) would; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(how)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"qa serve did not stop within {timeout} s of signal {how}")
