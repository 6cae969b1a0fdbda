"""Saving and loading the index: plain files, atomic writes, stale and damaged indexes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from small_article import ARTICLE

from qa import index, store
from qa.corpus import folded_sentences
from qa.store import IndexFileError


def texts(directory: Path) -> list[str]:
    loaded = store.load(directory)
    return [loaded.passage(i).text for i in range(loaded.n_passages)]


def test_round_trip(built):
    loaded = store.load(built)
    assert loaded.manifest["format"] == "qa-index" and loaded.manifest["version"] == store.VERSION
    assert [d["id"] for d in loaded.documents] == ["bai"]
    assert texts(built) == ["Đảng bộ thành phố kết nạp 640 đảng viên mới.", "Tỷ lệ hộ nghèo giảm còn 1% trong năm."]
    assert loaded.passage(1).id == "bai#1" and loaded.passage(1).title == "Tiêu đề bài"


def test_files_are_plain_json_and_npy_without_pickle(built):
    (segment,) = json.loads((built / "manifest.json").read_text())["segments"]
    names = {p.name.removeprefix(segment["name"] + ".").split(".")[0] for p in built.iterdir()}
    assert names == set(store.ARRAYS) | set(store.ANALYSIS) | set(store.BLOBS) | {
        store.DRAFTS,
        "documents",
        "manifest",
        "write",
    }
    for path in built.glob("*.npy*"):
        np.load(path, allow_pickle=False)  # would raise for object arrays
    json.loads((built / "manifest.json").read_text(encoding="utf-8"))


def test_pickled_array_is_refused(built):
    manifest = json.loads((built / "manifest.json").read_text())
    entry = manifest["segments"][0]["files"]["spans.npy"]
    path = built / entry["file"]
    np.save(open(path, "wb"), np.array([{"x": 1}], dtype=object), allow_pickle=True)
    entry["bytes"] = path.stat().st_size
    (built / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexFileError, match="spans.npy"):
        store.load(built)


def test_truncated_file_is_named_with_how_to_rebuild(built):
    manifest = json.loads((built / "manifest.json").read_text())
    path = built / manifest["segments"][0]["files"]["tf.npy"]["file"]
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(IndexFileError) as error:
        store.load(built)
    assert str(path) in str(error.value) and "qa index build" in str(error.value)


@pytest.mark.parametrize("damage", [b"{not json", b"", b"[1, 2]"])
def test_corrupt_manifest(built, damage):
    (built / "manifest.json").write_bytes(damage)
    with pytest.raises(IndexFileError, match="manifest.json"):
        store.load(built)


def test_corrupt_documents_file(built):
    manifest = json.loads((built / "manifest.json").read_text())
    path = built / manifest["segments"][0]["files"]["documents.json"]["file"]
    path.write_bytes(b"x" * path.stat().st_size)
    with pytest.raises(IndexFileError, match="documents.json"):
        store.load(built)


def test_same_size_garbage_in_an_array_is_caught(built):
    manifest = json.loads((built / "manifest.json").read_text())
    path = built / manifest["segments"][0]["files"]["indptr.npy"]["file"]
    data = bytearray(path.read_bytes())
    data[-8:] = (10**9).to_bytes(8, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(IndexFileError, match="indptr.npy"):
        store.load(built)


def test_missing_index(tmp_path):
    with pytest.raises(IndexFileError, match="qa index build"):
        store.load(tmp_path / "nowhere")


def test_build_killed_half_way_leaves_the_previous_index_usable(tmp_path, source, built):
    before = texts(built)
    (source / "bai.txt").write_text(ARTICLE.replace("640", "999"), encoding="utf-8")
    script = f"""
import os
from pathlib import Path
import numpy as np
from qa import index
written = []
original = np.save
def dying(handle, array, **options):
    written.append(1)
    if len(written) == 4:
        os.kill(os.getpid(), 9)
    return original(handle, array, **options)
np.save = dying
index.build([Path({str(source)!r})], Path({str(built)!r}))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == -9
    files = len(store.ARRAYS) + len(store.ANALYSIS) + len(store.BLOBS) + 4  # + drafts, documents, manifest, lock
    assert len(list(built.iterdir())) > files  # the dead build left files behind
    assert texts(built) == before
    index.build([source], built)
    assert "Đảng bộ thành phố kết nạp 999 đảng viên mới." in texts(built)
    assert len(list(built.iterdir())) == files  # and the next build cleaned them up


def test_stale_index_is_rebuilt_from_the_sources_given_not_served(source, built):
    (source / "bai.txt").write_text(ARTICLE.replace("640", "700"), encoding="utf-8")
    os.utime(source / "bai.txt", ns=(1, 1))
    assert "Đảng bộ thành phố kết nạp 700 đảng viên mới." in [
        index.ensure(built, [source]).passage(i).text for i in range(2)
    ]


def test_a_collection_is_never_rebuilt_from_the_sources_its_manifest_names(source, built, tmp_path):
    (source / "bai.txt").write_text(ARTICLE.replace("640", "700"), encoding="utf-8")
    os.utime(source / "bai.txt", ns=(1, 1))
    assert "Đảng bộ thành phố kết nạp 640 đảng viên mới." in [index.collection(built).passage(i).text for i in range(2)]
    secret = tmp_path / "secret.txt"
    secret.write_text("Tiêu đề\n\nMật khẩu của máy chủ là hoa hồng đỏ.\n", encoding="utf-8")
    manifest = json.loads((built / "manifest.json").read_text())
    manifest["sources"], manifest["fingerprint"] = [str(secret)], "planted"
    (built / "manifest.json").write_text(json.dumps(manifest))
    loaded = index.collection(built)
    assert all("Mật khẩu" not in loaded.passage(i).text for i in range(loaded.n_passages))


def test_index_from_another_analyser_version_is_refused_or_rebuilt_from_sources(source, built):
    manifest = json.loads((built / "manifest.json").read_text())
    manifest["analyser"] = "0"
    (built / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexFileError, match="analyser"):
        index.collection(built)
    assert index.ensure(built, [source]).manifest["analyser"] == index.ANALYSER_VERSION


def test_index_from_another_reader_version_is_rebuilt(source, built, cleaned, monkeypatch):
    monkeypatch.setattr(index.corpus, "READER_VERSION", "other")
    index.ensure(built, [source])
    assert cleaned == ["bai"]


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
    assert same_index(tmp_path / "serial", tmp_path / "parallel")


def many_documents(folder: Path, count: int = 6) -> None:
    for number in range(count):
        (folder / f"b{number}.txt").write_text(ARTICLE.replace("640", str(100 + number)), encoding="utf-8")


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """Every text the build analyses (serial builds analyse in this process)."""
    seen: list[str] = []
    original = index.analyse

    def analyse(text: str) -> list[str]:
        seen.append(text)
        return original(text)

    monkeypatch.setattr(index, "analyse", analyse)
    return seen


def same_index(a: Path, b: Path) -> bool:
    """Whether two collections of one segment hold the same postings."""
    (first,), (second,) = store.load(a).postings.segments, store.load(b).postings.segments
    return all(
        np.array_equal(getattr(first, name), getattr(second, name))
        for name in ("keys", "indptr", "passage", "tf", "lengths", "peak")
    )


def test_rebuild_analyses_only_the_changed_document(tmp_path, source, counted):
    many_documents(source)
    index.build([source], tmp_path / "idx")
    # Each distinct text once: 7 first passages, the second passage and the title all the files share.
    assert len(counted) == len(set(counted)) == 7 + 1 + 1
    counted.clear()
    (source / "b3.txt").write_text(ARTICLE.replace("640", "777"), encoding="utf-8")
    index.build([source], tmp_path / "idx")
    assert counted == ["Đảng bộ thành phố kết nạp 777 đảng viên mới."]
    index.build([source], tmp_path / "fresh")
    assert same_index(tmp_path / "idx", tmp_path / "fresh")
    assert "Đảng bộ thành phố kết nạp 777 đảng viên mới." in texts(tmp_path / "idx")


def test_a_rebuild_analyses_what_changed_in_a_worker_made_ready_while_reading(tmp_path, source, counted, monkeypatch):
    many_documents(source)
    index.build([source], tmp_path / "idx", workers=2)
    counted.clear()
    monkeypatch.setattr(index, "PARALLEL_FROM", 2)  # the previous index counts as large, one changed text as few
    (source / "b3.txt").write_text(ARTICLE.replace("640", "777"), encoding="utf-8")
    index.build([source], tmp_path / "idx", workers=2)
    assert counted == []  # analysed in the worker, not in this process
    index.build([source], tmp_path / "fresh", workers=1)
    assert same_index(tmp_path / "idx", tmp_path / "fresh")
    assert "Đảng bộ thành phố kết nạp 777 đảng viên mới." in texts(tmp_path / "idx")


def test_rebuild_with_nothing_changed_analyses_nothing(built, source, counted):
    index.build([source], built)
    assert counted == []


@pytest.fixture
def cleaned(monkeypatch) -> list[str]:
    """The id of every document the build cleans and cuts."""
    seen: list[str] = []
    original = index.corpus.Draft.clean

    def clean(draft):
        seen.append(draft.id)
        return original(draft)

    monkeypatch.setattr(index.corpus.Draft, "clean", clean)
    return seen


def test_a_documents_passages_read_at_once_are_those_read_one_by_one(tmp_path, source):
    many_documents(source, 3)
    index.build([source], tmp_path / "idx")
    loaded = store.load(tmp_path / "idx")
    together = [p for d in range(len(loaded.documents)) for p in loaded.document_passages(d)]
    assert together == [loaded.passage(i) for i in range(loaded.n_passages)] and len(together) > 3


def test_rebuild_cleans_and_cuts_only_the_changed_document(tmp_path, source, cleaned):
    many_documents(source)
    (source / "news.jsonl").write_text(
        "".join(
            json.dumps(
                {"id": f"n{i}", "title": "Tin", "date": "2024-01-02", "text": ARTICLE.replace("640", str(i))},
                ensure_ascii=False,
            )
            + "\n"
            for i in range(3)
        ),
        encoding="utf-8",
    )
    index.build([source], tmp_path / "idx")
    assert len(cleaned) == 10
    cleaned.clear()
    (source / "b3.txt").write_text(ARTICLE.replace("640", "777"), encoding="utf-8")
    lines = (source / "news.jsonl").read_text(encoding="utf-8").splitlines()
    # A line added on top moves the others: their source (file:line) changes, their text does not.
    (source / "news.jsonl").write_text(
        "\n".join(['{"id": "n9", "text": "Tin mới về giá xăng hôm nay."}'] + lines), encoding="utf-8"
    )
    index.build([source], tmp_path / "idx")
    assert sorted(cleaned) == ["b3", "n9"]
    index.build([source], tmp_path / "fresh")
    assert same_index(tmp_path / "idx", tmp_path / "fresh")
    rebuilt, fresh = store.load(tmp_path / "idx"), store.load(tmp_path / "fresh")
    assert rebuilt.documents == fresh.documents
    assert [rebuilt.passage(i) for i in range(rebuilt.n_passages)] == [
        fresh.passage(i) for i in range(fresh.n_passages)
    ]
    assert any(d["source"].endswith("news.jsonl:4") and d["id"] == "n2" for d in rebuilt.documents)
    # The folded texts answers are matched in, kept for unchanged documents, made for new ones.
    assert all(rebuilt.folded_text(i) == folded_sentences(rebuilt.passage(i).text) for i in range(rebuilt.n_passages))


def test_documents_of_another_reader_version_are_cleaned_again(built, source, cleaned, monkeypatch):
    monkeypatch.setattr(index.corpus, "READER_VERSION", "other")
    index.build([source], built)
    assert cleaned == ["bai"]


@pytest.mark.parametrize("damage", ["missing", "wrong length"])
def test_damaged_draft_keys_mean_every_document_is_read_again(built, source, cleaned, damage, caplog):
    manifest = json.loads((built / "manifest.json").read_text())
    path = built / manifest["segments"][0]["files"][store.DRAFTS + ".npy"]["file"]
    if damage == "missing":
        path.unlink()
    else:
        with open(path, "wb") as handle:
            np.save(handle, np.zeros(5, dtype=np.uint64))
        manifest["segments"][0]["files"][store.DRAFTS + ".npy"]["bytes"] = path.stat().st_size
        (built / "manifest.json").write_text(json.dumps(manifest))
    index.build([source], built)
    assert cleaned == ["bai"] and "not reusing the documents" in caplog.text


@pytest.mark.parametrize("name", store.ANALYSIS)
@pytest.mark.parametrize("damage", ["garbage", "truncated", "missing", "wrong values"])
def test_damaged_analysis_is_ignored_and_everything_analysed_again(
    tmp_path, source, built, counted, name, damage, caplog
):
    manifest = json.loads((built / "manifest.json").read_text())
    path = built / manifest["segments"][0]["files"][name + ".npy"]["file"]
    if damage == "garbage":
        path.write_bytes(b"\x93NUMPY" + b"x" * (path.stat().st_size - 6))
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:20])
    elif damage == "missing":
        path.unlink()
    else:  # a valid .npy of the same size whose numbers point nowhere
        array = np.load(path)
        with open(path, "wb") as handle:
            np.save(handle, np.full_like(array, -1 if array.dtype.kind == "i" else 0), allow_pickle=False)
    index.build([source], built)
    assert len(counted) == 3 and "not reusing the analysis" in caplog.text  # 2 passages and the title
    index.build([source], tmp_path / "fresh")
    assert same_index(built, tmp_path / "fresh")


def test_analysis_of_another_analyser_version_is_not_reused(built, source, counted, monkeypatch):
    monkeypatch.setattr(index, "ANALYSER_VERSION", "other")
    index.build([source], built)
    assert len(counted) == 3


def test_saved_terms_score_exactly_like_rank_bm25(tmp_path, source):
    from qa.bm25 import FixedIdfBM25

    many_documents(source, 4)
    index.build([source], tmp_path / "idx")
    loaded = store.load(tmp_path / "idx")
    reference = FixedIdfBM25(index.passage_terms(loaded))
    (segment,) = loaded.postings.segments
    for row in range(0, len(segment.keys), 7):
        ours = loaded.postings._segment_scores(
            0, np.array([row]), loaded.postings.idf_of(segment.doc_freq(np.array([row])))
        )
        assert np.allclose(ours, reference.get_scores([row]), rtol=1e-9, atol=0)


def test_index_of_an_older_format_is_refused_then_rebuilt_from_the_sources_given(built, source):
    manifest = json.loads((built / "manifest.json").read_text())
    manifest["version"] = store.VERSION - 1
    (built / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexFileError, match="format version"):
        store.load(built)
    assert index.ensure(built, [source]).manifest["version"] == store.VERSION
