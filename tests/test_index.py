"""Saving and loading the index: plain files, atomic writes, stale and damaged indexes."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa import index
from qa.index import IndexFileError

ARTICLE = "Tiêu đề bài\n\nĐảng bộ thành phố kết nạp 640 đảng viên mới.\n\nTỷ lệ hộ nghèo giảm còn 1% trong năm.\n"


@pytest.fixture
def source(tmp_path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "bai.txt").write_text(ARTICLE, encoding="utf-8")
    return folder


@pytest.fixture
def built(tmp_path, source) -> Path:
    out = tmp_path / "idx"
    index.build([source], out)
    return out


def texts(directory: Path) -> list[str]:
    loaded = index.load(directory)
    return [loaded.passage(i).text for i in range(loaded.n_passages)]


def test_round_trip(built):
    loaded = index.load(built)
    assert loaded.manifest["format"] == "qa-index" and loaded.manifest["version"] == index.VERSION
    assert [d["id"] for d in loaded.documents] == ["bai"]
    assert texts(built) == ["Đảng bộ thành phố kết nạp 640 đảng viên mới.", "Tỷ lệ hộ nghèo giảm còn 1% trong năm."]
    assert loaded.passage(1).id == "bai#1" and loaded.passage(1).title == "Tiêu đề bài"


def test_files_are_plain_json_and_npy_without_pickle(built):
    names = {p.name.split(".")[0] for p in built.iterdir()}
    assert names == set(index.ARRAYS) | {"texts", "documents", "manifest"}
    for path in built.glob("*.npy*"):
        np.load(path, allow_pickle=False)  # would raise for object arrays
    json.loads((built / "manifest.json").read_text(encoding="utf-8"))


def test_pickled_array_is_refused(built):
    manifest = json.loads((built / "manifest.json").read_text())
    entry = manifest["files"]["spans.npy"]
    path = built / entry["file"]
    np.save(open(path, "wb"), np.array([{"x": 1}], dtype=object), allow_pickle=True)
    entry["bytes"] = path.stat().st_size
    (built / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexFileError, match="spans.npy"):
        index.load(built)


def test_truncated_file_is_named_with_how_to_rebuild(built):
    manifest = json.loads((built / "manifest.json").read_text())
    path = built / manifest["files"]["weights.npy"]["file"]
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(IndexFileError) as error:
        index.load(built)
    assert str(path) in str(error.value) and "qa index build" in str(error.value)


@pytest.mark.parametrize("damage", [b"{not json", b"", "[1, 2]".encode()])
def test_corrupt_manifest(built, damage):
    (built / "manifest.json").write_bytes(damage)
    with pytest.raises(IndexFileError, match="manifest.json"):
        index.load(built)


def test_corrupt_documents_file(built):
    manifest = json.loads((built / "manifest.json").read_text())
    path = built / manifest["files"]["documents.json"]["file"]
    path.write_bytes(b"x" * path.stat().st_size)
    with pytest.raises(IndexFileError, match="documents.json"):
        index.load(built)


def test_same_size_garbage_in_an_array_is_caught(built):
    manifest = json.loads((built / "manifest.json").read_text())
    path = built / manifest["files"]["indptr.npy"]["file"]
    data = bytearray(path.read_bytes())
    data[-8:] = (10**9).to_bytes(8, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(IndexFileError, match="indptr.npy"):
        index.load(built)


def test_missing_index(tmp_path):
    with pytest.raises(IndexFileError, match="qa index build"):
        index.load(tmp_path / "nowhere")


def test_build_killed_half_way_leaves_the_previous_index_usable(tmp_path, source, built):
    before = texts(built)
    (source / "bai.txt").write_text(ARTICLE.replace("640", "999"), encoding="utf-8")
    script = f"""
import os
from pathlib import Path
from qa import index
written = []
original = index._npy_bytes
def dying(array):
    written.append(1)
    if len(written) == 4:
        os.kill(os.getpid(), 9)
    return original(array)
index._npy_bytes = dying
index.build([Path({str(source)!r})], Path({str(built)!r}))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == -9
    assert len(list(built.iterdir())) > len(index.ARRAYS) + 3  # the dead build left files behind
    assert texts(built) == before
    index.build([source], built)
    assert "Đảng bộ thành phố kết nạp 999 đảng viên mới." in texts(built)
    assert len(list(built.iterdir())) == len(index.ARRAYS) + 3  # and the next build cleaned them up


def test_stale_index_is_rebuilt_not_served(source, built):
    (source / "bai.txt").write_text(ARTICLE.replace("640", "700"), encoding="utf-8")
    os.utime(source / "bai.txt", ns=(1, 1))
    assert "Đảng bộ thành phố kết nạp 700 đảng viên mới." in [
        index.ensure(built).passage(i).text for i in range(2)]


def test_index_from_another_analyser_version_is_rebuilt(source, built, monkeypatch):
    manifest = json.loads((built / "manifest.json").read_text())
    manifest["analyser"] = "0"
    (built / "manifest.json").write_text(json.dumps(manifest))
    assert index.ensure(built).manifest["analyser"] == index.ANALYSER_VERSION


def test_missing_index_is_built_when_sources_are_given(tmp_path, source):
    loaded = index.ensure(tmp_path / "new", [source])
    assert loaded.n_passages == 2


def test_build_reports_unreadable_files_and_goes_on(tmp_path, source):
    (source / "hong.txt").write_bytes(b"\x00\x01\x02\xff\xfe\x00" * 50)
    report = index.build([source], tmp_path / "out")
    assert report.documents == 1 and [Path(s.source).name for s in report.skipped] == ["hong.txt"]


def test_parallel_and_serial_builds_are_identical(tmp_path, source, monkeypatch):
    for number in range(30):
        (source / f"b{number}.txt").write_text(ARTICLE.replace("640", str(number)), encoding="utf-8")
    index.build([source], tmp_path / "serial", workers=1)
    monkeypatch.setattr(index, "PARALLEL_FROM", 1)
    index.build([source], tmp_path / "parallel", workers=2)
    serial, parallel = index.load(tmp_path / "serial"), index.load(tmp_path / "parallel")
    assert np.array_equal(serial.postings.keys, parallel.postings.keys)
    assert np.array_equal(serial.postings.weight, parallel.postings.weight)
