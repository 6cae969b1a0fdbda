"""Faults injected on purpose: racing writers, damaged files, killed builds, read-only and full disks.

What must hold after each: every ask answers (or says clearly why it cannot), nothing damaged is served, and the
previous collection is still there when a write fails.
"""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from filelock import FileLock
from small_article import ARTICLE

from qa import index, store
from qa.cli import main
from qa.search import Engine
from qa.store import IndexFileError, IndexWriteError

pytestmark = pytest.mark.slow

QA = [sys.executable, "-m", "qa.cli"]
FORK = multiprocessing.get_context("fork")


def run_qa(*args: str, env: dict | None = None, **options) -> subprocess.CompletedProcess:
    return subprocess.run(
        QA + list(args), capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300, **options
    )


def answers(directory: Path, question: str = "kết nạp đảng viên") -> bool:
    """Whether the index in directory loads whole and answers the question found."""
    loaded = store.load(directory, checksums=True)
    try:
        return Engine(loaded).ask(question).found
    finally:
        loaded.close()


# One writer at a time


def _build_in_a_fork(sources: list[Path], out: Path, start) -> None:
    start.wait()
    index.build(sources, out)


@pytest.mark.parametrize("trial", range(8))
def test_racing_writers_leave_one_whole_index(tmp_path, source, trial):
    """Four builds of the same folder at once, each with other text: the last one to finish is what is served."""
    out = tmp_path / "idx"
    folders = []
    for n in range(4):
        folder = tmp_path / f"docs{n}"
        folder.mkdir()
        (folder / "bai.txt").write_text(ARTICLE.replace("640", str(700 + n)), encoding="utf-8")
        folders.append(folder)
    index.build([source], out)  # a previous index, as a user would have
    start = FORK.Barrier(4)
    writers = [FORK.Process(target=_build_in_a_fork, args=([f], out, start)) for f in folders]
    for w in writers:
        w.start()
    for w in writers:
        w.join(120)
    assert [w.exitcode for w in writers] == [0, 0, 0, 0]
    assert store.verify(out) == []
    loaded = store.load(out)
    text = loaded.passage(0).text
    assert any(f"kết nạp {700 + n} đảng viên" in text for n in range(4))
    assert answers(out)
    listed = {entry["file"] for entry in loaded.manifest["segments"][0]["files"].values()}
    assert {p.name for p in out.iterdir()} == listed | {"manifest.json", "write.lock"}  # no other build's files


def _first_use(cache: Path, start, results) -> None:
    os.environ["XDG_CACHE_HOME"] = str(cache)
    start.wait()
    loaded = index.ensure(index.default_index_dir(), [index.default_corpus()])
    results.put((loaded.version, Engine(loaded).ask("Ai là Bí thư Thành ủy Chí Linh?").found))


@pytest.mark.parametrize("damage", ["missing", "stale", "broken"])
def test_racing_first_use_builds_the_built_in_article_once(tmp_path, damage):
    cache = tmp_path / "cache"
    os.environ["XDG_CACHE_HOME"] = str(cache)
    try:
        directory = index.default_index_dir()
        if damage != "missing":
            index.build([index.default_corpus()], directory)
            manifest = json.loads((directory / "manifest.json").read_text())
            if damage == "stale":  # as after the corpus or the reader changed
                manifest["fingerprint"] = "older"
            else:  # a file gone, as a half-finished writer of an older qa could leave it
                (directory / manifest["segments"][0]["files"]["keys.npy"]["file"]).unlink()
            (directory / "manifest.json").write_text(json.dumps(manifest))
    finally:
        del os.environ["XDG_CACHE_HOME"]
    start, results = FORK.Barrier(4), FORK.Queue()
    askers = [FORK.Process(target=_first_use, args=(cache, start, results)) for _ in range(4)]
    for a in askers:
        a.start()
    for a in askers:
        a.join(120)
    assert [a.exitcode for a in askers] == [0, 0, 0, 0]
    seen = [results.get(timeout=5) for _ in askers]
    assert all(found for _, found in seen)
    assert len({version for version, _ in seen}) == 1  # one build, the others waited for it and loaded it
    later = run_qa("ask", "Ai là Bí thư Thành ủy Chí Linh?", env={"XDG_CACHE_HOME": str(cache)})
    assert later.returncode == 0, later.stderr


def test_a_second_writer_waits_saying_so_then_writes(built, source):
    (source / "bai.txt").write_text(ARTICLE.replace("640", "777"), encoding="utf-8")
    lock = FileLock(str(built / store.LOCK))
    lock.acquire()
    try:
        writer = subprocess.Popen(
            QA + ["index", "build", str(source), "--out", str(built)],
            stderr=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        said = ""
        deadline = time.monotonic() + 60
        while "waiting" not in said and time.monotonic() < deadline:
            said += os.read(writer.stderr.fileno(), 1000).decode()
        assert "waiting for another qa command that is writing" in said
        assert writer.poll() is None  # still waiting
    finally:
        lock.release()
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert "kết nạp 777" in store.load(built).passage(0).text


def test_a_writer_that_waits_too_long_fails_with_a_message(built):
    lock = FileLock(str(built / store.LOCK))
    with lock:
        with pytest.raises(IndexWriteError, match="another qa command"):
            with store.writing(built, wait_seconds=0.2):
                pass


# Damage is detected, never served


def _files(directory: Path) -> dict[str, Path]:
    """The files of a collection of one segment, by name."""
    manifest = json.loads((directory / "manifest.json").read_text())
    return {name: directory / entry["file"] for name, entry in manifest["segments"][0]["files"].items()}


def _kinds(directory: Path) -> set[str]:
    """The kinds of file in a collection's folder ("keys.npy", "manifest.json"...), whatever their segment and write."""
    return {
        p.name.split(".", 1)[1].rsplit(".", 1)[0] if p.name.startswith("seg-") else p.name for p in directory.iterdir()
    }


@pytest.mark.parametrize(
    "name",
    [a + ".npy" for a in store.ARRAYS + store.ANALYSIS + (store.DRAFTS,)]
    + [b + ".bin" for b in store.BLOBS]
    + ["documents.json"],
)
def test_one_flipped_bit_in_any_file_is_named_by_verify(built, name):
    path = _files(built)[name]
    data = bytearray(path.read_bytes())
    data[len(data) * 2 // 3] ^= 0x10  # past an .npy header, in the data
    path.write_bytes(bytes(data))
    problems = store.verify(built)
    assert len(problems) == 1 and str(path) in problems[0] and "qa index build" in problems[0]
    result = CliRunner().invoke(main, ["index", "verify", "--index", str(built)])
    assert result.exit_code == 2 and str(path) in result.output
    if name.split(".")[0] not in store.ANALYSIS + (store.DRAFTS,):  # the files questions are answered from
        asked = run_qa("ask", "kết nạp đảng viên", "--index", str(built))
        assert asked.returncode == 2 and str(path) in asked.stderr and "Traceback" not in asked.stderr


def test_verify_of_a_whole_index_says_so(built):
    result = CliRunner().invoke(main, ["index", "verify", "--index", str(built)])
    assert result.exit_code == 0 and ": whole (" in result.output and "verified" in result.output


def _damaged_array(directory: Path, name: str, change) -> None:
    """Rewrite an array with its checksum, as a hostile or buggy writer could: only the structure can tell."""
    path = _files(directory)[name + ".npy"]
    array = np.load(path)
    change(array)
    with open(path, "wb") as handle:
        np.save(handle, array)
    manifest = json.loads((directory / "manifest.json").read_text())
    import xxhash

    manifest["segments"][0]["files"][name + ".npy"].update(
        bytes=path.stat().st_size, xxh3=xxhash.xxh3_64(path.read_bytes()).hexdigest()
    )
    (directory / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    "name, change",
    [
        ("indptr", lambda a: a.__setitem__(1, 1 << 36)),  # the flipped bit that asked numpy for 64 GiB
        ("indptr", lambda a: a.__setitem__(slice(1, 3), a[1:3][::-1].copy())),
        ("postings", lambda a: a.__setitem__(0, 10**6)),
        ("postings", lambda a: a.__setitem__(0, -1)),
        ("keys", lambda a: a.__setitem__(slice(0, 2), a[0:2][::-1].copy())),
        ("passage_doc", lambda a: a.__setitem__(-1, 5)),
        ("text_offsets", lambda a: a.__setitem__(1, 10**9)),
        ("folded_offsets", lambda a: a.__setitem__(slice(1, 3), a[1:3][::-1].copy())),
    ],
)
def test_arrays_that_do_not_fit_together_are_refused_before_use(built, name, change):
    _damaged_array(built, name, change)
    with pytest.raises(IndexFileError, match=f"{name}.npy"):
        store.load(built, checksums=False)


def test_a_damaged_rebuild_cache_is_not_reused(tmp_path, source, built, caplog):
    path = _files(built)["analysis_terms.npy"]
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01  # a term row off by one: still in range, so only the checksum tells
    path.write_bytes(bytes(data))
    (source / "bai.txt").write_text(ARTICLE + "\nMột đoạn mới về giao thông nông thôn.\n", encoding="utf-8")
    index.build([source], built)
    assert "not reusing the analysis" in caplog.text
    fresh = tmp_path / "fresh"
    index.build([source], fresh)
    (a,), (b,) = store.load(built).postings.segments, store.load(fresh).postings.segments
    assert np.array_equal(a.keys, b.keys) and np.array_equal(a.passage, b.passage) and np.array_equal(a.tf, b.tf)


def test_a_file_written_under_a_loaded_index_is_named(built, tmp_path):
    loaded = store.load(built)
    assert loaded.changed_file() is None
    path = _files(built)["texts.bin"]
    with open(path, "r+b") as handle:
        handle.truncate(10)
    assert ".texts.bin." in loaded.changed_file()


def test_a_new_build_beside_a_loaded_index_is_no_change_to_it(built, source):
    loaded = store.load(built)
    (source / "bai.txt").write_text(ARTICLE.replace("640", "888"), encoding="utf-8")
    index.build([source], built)
    assert loaded.changed_file() is None  # the files it mapped are gone from the folder, not changed
    assert "640" in loaded.passage(0).text and "888" in store.load(built).passage(0).text


def test_undecodable_passage_text_is_an_index_error_not_a_crash(built):
    path = _files(built)["texts.bin"]
    data = bytearray(path.read_bytes())
    data[0:2] = b"\xff\xfe"
    path.write_bytes(bytes(data))
    loaded = store.load(built, checksums=False)
    with pytest.raises(IndexFileError, match="texts.bin"):
        loaded.passage(0)


def test_a_manifest_cannot_point_outside_its_folder(built, tmp_path):
    manifest = json.loads((built / "manifest.json").read_text())
    manifest["segments"][0]["files"]["texts.bin"]["file"] = "../../etc/passwd"
    (built / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexFileError, match="texts.bin"):
        store.load(built)


# Builds leave nothing behind


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.add(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def large_source(tmp_path) -> Path:
    """Enough passages for a build to start worker processes and keep them busy for a while."""
    folder = tmp_path / "many"
    folder.mkdir()
    sentences = " ".join(f"Câu số {i} nói về kinh tế, văn hóa và xã hội của tỉnh Hải Dương." for i in range(12))
    for n in range(30):
        (folder / f"bai{n}.txt").write_text(f"Bài {n}\n\n" + "\n\n".join([sentences] * 80), encoding="utf-8")
    return folder


BUILD_WITH_WORKERS = """
import sys
from pathlib import Path
from qa import cli, index
index.PARALLEL_FROM, index.ANALYSIS_BATCH = 1, 4  # workers for a small corpus, and many short tasks
sys.argv = ["qa", "index", "build", sys.argv[1], "--out", sys.argv[2], "--workers", "2"]
cli.main()
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_a_killed_build_leaves_no_worker_and_the_next_writer_removes_its_files(tmp_path, source, large_source, how):
    out = tmp_path / "idx"
    index.build([source], out)
    before = _kinds(out)
    build = subprocess.Popen(
        [sys.executable, "-c", BUILD_WITH_WORKERS, str(large_source), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while len(_children(build.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = _children(build.pid)
    assert len(workers) >= 2, "the build started its worker processes"
    build.send_signal(how)
    _, err = build.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)
    if how == signal.SIGINT:
        assert build.returncode == 130 and err.strip().splitlines()[-1] == "qa: interrupted"
        assert "Traceback" not in err
    elif how == signal.SIGTERM:
        assert build.returncode == 128 + signal.SIGTERM and "Traceback" not in err
    assert answers(out)  # the previous index, whole
    index.build([source], out)
    assert _kinds(out) == before and len(list(out.iterdir())) == len(before)


# Read-only and full disks


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def read_only(tmp_path):
    """A read-only bind mount of a folder: what the folder holds, but nothing can be written (root included)."""
    mounted: list[Path] = []

    def make(folder: Path) -> Path:
        view = tmp_path / f"read-only-{len(mounted)}"
        view.mkdir()
        if not (_mount("--bind", str(folder), str(view)) and _mount("-o", "remount,bind,ro", str(view))):
            subprocess.run(["umount", str(view)], capture_output=True)
            pytest.skip("cannot make a read-only bind mount here (needs root)")
        mounted.append(view)
        return view

    yield make
    for view in mounted:
        subprocess.run(["umount", "--lazy", str(view)], capture_output=True)


def test_an_out_of_date_built_in_article_on_a_read_only_disk_is_served_with_a_warning(tmp_path, read_only):
    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache)}
    assert run_qa("ask", "ty le ho ngheo", env=env).returncode == 0
    directory = cache / "qa-vi" / "default-index"
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["fingerprint"] = "older"
    (directory / "manifest.json").write_text(json.dumps(manifest))
    view = read_only(cache)
    result = run_qa("ask", "ty le ho ngheo", env={"XDG_CACHE_HOME": str(view)})
    assert result.returncode == 0 and "read-only" in result.stderr and "Traceback" not in result.stderr


def test_building_into_a_read_only_folder_fails_in_one_line(built, source, read_only):
    view = read_only(built)
    result = run_qa("index", "build", str(source), "--out", str(view))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("qa: cannot write the index") and "Read-only" in result.stderr
    assert answers(view)


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MiB file system of its own, to fill up."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)):
        pytest.skip("cannot mount a small file system here (needs root)")
    yield disk
    subprocess.run(["umount", "--lazy", str(disk)], capture_output=True)


def test_a_full_disk_fails_in_one_line_and_keeps_the_previous_index(small_disk, source, large_source):
    out = small_disk / "idx"
    index.build([source], out)
    before = sorted(p.name for p in out.iterdir())
    free = os.statvfs(small_disk).f_bavail
    result = run_qa("index", "build", str(large_source), "--out", str(out))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "not enough space" in result.stderr and "MiB" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == before  # nothing left behind
    assert os.statvfs(small_disk).f_bavail == free
    assert answers(out)


def test_a_disk_that_fills_up_while_writing_removes_what_was_written(small_disk, source, large_source, monkeypatch):
    out = small_disk / "idx"
    index.build([source], out)
    before = sorted(p.name for p in out.iterdir())
    real = store.shutil.disk_usage
    monkeypatch.setattr(store.shutil, "disk_usage", lambda path: real(path)._replace(free=1 << 40))  # it looks roomy
    with pytest.raises(IndexWriteError, match="not enough space"):
        index.build([large_source], out)
    assert sorted(p.name for p in out.iterdir()) == before
    assert answers(out)
