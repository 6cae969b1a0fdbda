"""A living collection: documents added, replaced and removed in segments, ranked exactly as a fresh build."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa import collection, index, store, terms
from qa.cli import main
from qa.collection import NoSuchDocument
from qa.search import Engine

SENTENCES = [
    "Đảng bộ thành phố kết nạp 640 đảng viên mới.",
    "Tỷ lệ hộ nghèo theo chuẩn mới giảm còn 1%.",
    "Thu nhập bình quân đầu người năm 2022 đạt 87 triệu đồng.",
    "Thu ngân sách nhà nước trên địa bàn đạt trên 3.200 tỷ đồng.",
    "Thành phố tập trung cải cách hành chính và chuyển đổi số.",
    "Hà Nội hôm nay trời nắng, nhiệt độ cao nhất 35 độ.",
    "Giá xăng RON 95 tăng thêm 500 đồng mỗi lít từ chiều nay.",
    "Đội tuyển bóng đá Việt Nam thắng 2-0 trên sân Mỹ Đình.",
    "Phở bò Nam Định dùng bánh phở mềm và nước dùng trong.",
    "Các trường đại học công bố điểm chuẩn năm 2023.",
]
QUERIES = [
    {terms.folded("dang"): 1.0, terms.folded("vien"): 1.0},
    {terms.folded("thu"): 2.0, terms.pair("thu", "nhap"): 1.0},
    {terms.folded("ha"): 1.0, terms.folded("noi"): 1.0},
    {terms.folded("dong"): 1.0},
    {terms.folded("pho"): 1.0, terms.folded("bo"): 1.0},
    {terms.folded("nam"): 1.0, terms.folded("2023"): 1.0},
]


def write_jsonl(path: Path, documents: dict[str, str]) -> Path:
    path.write_text(
        "".join(
            json.dumps({"id": i, "title": f"Bài {i}", "text": t}, ensure_ascii=False) + "\n"
            for i, t in documents.items()
        ),
        encoding="utf-8",
    )
    return path


def ranking(directory: Path) -> dict[str, dict[str, float]]:
    """Per query, every passage with a score above 0, by id: what a collection answers, whatever its numbering."""
    loaded = store.load(directory)
    postings, result = loaded.postings, {}
    for n, query in enumerate(QUERIES):
        best, scores = postings.top(query, postings.n_passages)
        result[str(n)] = {loaded.passage(b).id: s for b, s in zip(best.tolist(), scores.tolist()) if s > 0}
    return result


def same_ranking(a: dict, b: dict) -> bool:
    return all(a[q].keys() == b[q].keys() and all(abs(a[q][i] - b[q][i]) <= 1e-6 for i in a[q]) for q in a)


texts = st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=4).map("\n".join)  # a passage a line
steps = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.dictionaries(st.sampled_from("abcdefgh"), texts, min_size=1, max_size=3)),
        st.tuples(st.just("remove"), st.sets(st.sampled_from("abcdefgh"), min_size=1, max_size=2)),
    ),
    min_size=1,
    max_size=12,
)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps, st.integers(2, 4))
def test_any_sequence_of_adds_and_removes_ranks_exactly_like_a_fresh_build(
    tmp_path_factory, monkeypatch, steps, max_segments
):
    monkeypatch.setattr(collection, "MAX_SEGMENTS", max_segments)  # merges happen within a few adds
    folder = tmp_path_factory.mktemp("living")
    out, live, step_file = folder / "idx", {}, folder / "step.jsonl"
    for op, what in steps:
        if op == "add":
            collection.add([write_jsonl(step_file, what)], out)
            live.update(what)
        elif set(what) <= set(live):
            collection.remove(sorted(what), out)
            for doc_id in what:
                del live[doc_id]
        elif (out / store.MANIFEST).exists():
            before = ranking(out)
            with pytest.raises(NoSuchDocument):
                collection.remove(sorted(what), out)
            assert ranking(out) == before
    if not live:
        return
    fresh = folder / "fresh"
    index.build([write_jsonl(folder / "all.jsonl", live)], fresh)
    assert store.load(out).stats == store.load(fresh).stats
    assert same_ranking(ranking(out), ranking(fresh))
    collection.optimize(out)
    assert len(store.load(out).segments) == 1 and same_ranking(ranking(out), ranking(fresh))
    assert store.verify(out) == []


@pytest.fixture
def living(tmp_path) -> Path:
    out = tmp_path / "idx"
    collection.add([write_jsonl(tmp_path / "first.jsonl", {"a": SENTENCES[0], "b": SENTENCES[5]})], out)
    return out


def test_an_added_document_is_answered_and_a_removed_one_is_not(living, tmp_path):
    engine = lambda: Engine(store.load(living))  # noqa: E731
    assert not engine().ask("Giá xăng RON 95 tăng bao nhiêu?").found
    report = collection.add([write_jsonl(tmp_path / "x.jsonl", {"xang": SENTENCES[6]})], living)
    assert report.added == ["xang"] and report.passages == 1
    answer = engine().ask("Giá xăng RON 95 tăng bao nhiêu?")
    assert answer.found and answer.answers[0].doc_id == "xang"
    assert collection.remove(["xang"], living).removed == ["xang"]
    assert not engine().ask("Giá xăng RON 95 tăng bao nhiêu?").found
    assert store.load(living).stats == {"documents": 2, "passages": 2}


def test_a_document_added_again_replaces_the_old_one_or_changes_nothing(living, tmp_path):
    same = collection.add([write_jsonl(tmp_path / "same.jsonl", {"a": SENTENCES[0]})], living)
    assert same.unchanged == ["a"] and not same.changed
    corrected = collection.add([write_jsonl(tmp_path / "fix.jsonl", {"a": SENTENCES[1]})], living)
    assert corrected.replaced == ["a"]
    loaded = store.load(living)
    texts = [loaded.passage(n).text for n in range(loaded.n_passages) if not loaded.deleted[loaded.passage_doc[n]]]
    assert SENTENCES[1] in texts and SENTENCES[0] not in texts and loaded.stats["documents"] == 2


def test_removing_an_unknown_id_names_it_and_changes_nothing(living):
    before = (living / store.MANIFEST).read_bytes()
    with pytest.raises(NoSuchDocument, match="'nope'"):
        collection.remove(["a", "nope"], living)
    assert (living / store.MANIFEST).read_bytes() == before


def test_a_removal_writes_a_mask_not_the_segment_again(living):
    (segment,) = json.loads((living / store.MANIFEST).read_text())["segments"]
    collection.remove(["a"], living)
    (after,) = json.loads((living / store.MANIFEST).read_text())["segments"]
    assert after["files"] == segment["files"] and after["deleted"]["documents"] == 1


def test_segments_past_the_limit_are_merged(tmp_path, monkeypatch):
    monkeypatch.setattr(collection, "MAX_SEGMENTS", 3)
    out = tmp_path / "idx"
    for n in range(6):
        collection.add([write_jsonl(tmp_path / f"{n}.jsonl", {f"d{n}": SENTENCES[n]})], out)
    loaded = store.load(out)
    assert len(loaded.segments) <= 3 and loaded.stats == {"documents": 6, "passages": 6}


def test_cli_add_list_info_remove_optimize(tmp_path):
    run = CliRunner().invoke
    out = str(tmp_path / "idx")
    folder = tmp_path / "docs"
    (folder / "a").mkdir(parents=True)
    (folder / "b").mkdir()
    (folder / "a" / "tin.txt").write_text("Thời tiết\n\nHà Nội hôm nay trời nắng, nhiệt độ 35 độ.\n", encoding="utf-8")
    (folder / "b" / "tin.txt").write_text("Giá xăng\n\nGiá xăng RON 95 tăng thêm 500 đồng.\n", encoding="utf-8")
    added = run(main, ["index", "add", str(folder), "--index", out])
    assert added.exit_code == 0, added.output
    listed = json.loads(run(main, ["index", "list", "--index", out, "--json"]).output)
    assert sorted(d["id"] for d in listed) == ["a/tin", "b/tin"]  # two tin.txt in two folders: two documents
    assert set(listed[0]) >= {"id", "title", "date", "url", "passages"}
    info = json.loads(run(main, ["index", "info", "--index", out, "--json"]).output)
    assert info["documents"] == 2 and info["passages"] == 2 and info["segments"] == 1 and info["bytes"] > 0
    assert info["directory"] == str(Path(out).resolve()) and info["format"] == store.VERSION and info["terms"] > 10
    unknown = run(main, ["index", "remove", "a/tin", "zzz", "--index", out])
    assert unknown.exit_code == 2 and "'zzz'" in unknown.output
    removed = run(main, ["index", "remove", "a/tin", "--index", out])
    assert removed.exit_code == 0 and removed.output.startswith("Removed 1 document in ")
    assert [d["id"] for d in json.loads(run(main, ["index", "list", "--index", out, "--json"]).output)] == ["b/tin"]
    assert run(main, ["index", "optimize", "--index", out]).exit_code == 0
    assert json.loads(run(main, ["index", "info", "--index", out, "--json"]).output)["deleted_documents"] == 0
    text = run(main, ["index", "list", "--index", out]).output
    assert text.split("\t")[0] == "b/tin" and "Giá xăng" in text and text.endswith("\t1 passage\n")


def test_add_and_remove_need_a_collection_other_than_the_built_in_article(tmp_path, monkeypatch):
    monkeypatch.delenv("QA_INDEX", raising=False)
    (tmp_path / "tin.txt").write_text("Tin\n\nHà Nội hôm nay trời nắng.\n", encoding="utf-8")
    for args in (["index", "add", str(tmp_path / "tin.txt")], ["index", "remove", "tin"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and "--index" in result.output


def _file(living: Path, name: str) -> Path:
    """The path of the first segment's file of this name."""
    manifest = json.loads((living / store.MANIFEST).read_text())
    return living / manifest["segments"][0]["files"][name]["file"]


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))


def test_a_change_refuses_a_damaged_catalogue(living, tmp_path):
    manifest = json.loads((living / store.MANIFEST).read_text())
    _flip_last_byte(_file(living, "passage_doc.npy"))  # read whole by every change: its checksum is checked
    with pytest.raises(store.IndexFileError, match="passage_doc.npy"):
        collection.add([write_jsonl(tmp_path / "x.jsonl", {"x": SENTENCES[3]})], living)
    with pytest.raises(store.IndexFileError, match="passage_doc.npy"):
        collection.remove(["a"], living)
    assert json.loads((living / store.MANIFEST).read_text()) == manifest


def test_an_add_reads_no_posting_and_a_damaged_one_is_still_never_served(living, tmp_path):
    _flip_last_byte(_file(living, "tf.npy"))
    assert collection.add([write_jsonl(tmp_path / "x.jsonl", {"x": SENTENCES[3]})], living).added == ["x"]
    with pytest.raises(store.IndexFileError, match="tf.npy"):
        store.load(living)  # as every command that answers loads it
    assert any("tf.npy" in problem for problem in store.verify(living))


def test_a_removal_whose_saved_analysis_misses_terms_changes_nothing(living):
    path = _file(living, "analysis_terms.npy")
    saved = np.load(path)
    with open(path, "wb") as handle:  # the same size, every text's terms now one term: read in a slice, unchecked
        np.save(handle, np.zeros_like(saved))
    manifest = json.loads((living / store.MANIFEST).read_text())
    with pytest.raises(store.IndexFileError, match="does not give every term of 'a'"):
        collection.remove(["a"], living)
    assert json.loads((living / store.MANIFEST).read_text()) == manifest


def _modules_loaded_by(*args: str) -> set[str]:
    """Which of underthesea, the answering code, Flask and numba a qa command run in a new process imports."""
    script = (
        "import sys\n"
        "from qa.cli import main\n"
        f"try:\n    main({list(args)!r})\n"
        "except SystemExit as end:\n    assert not end.code, end.code\n"
        "print(*[m for m in ('underthesea', 'qa.search', 'flask', 'numba') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(done.stdout.splitlines()[-1].split())


def test_a_change_imports_only_what_it_uses(living, tmp_path):
    added = write_jsonl(tmp_path / "x.jsonl", {"x": SENTENCES[3]})
    assert _modules_loaded_by("index", "add", str(added), "--index", str(living)) == {"underthesea"}  # to analyse
    assert _modules_loaded_by("index", "remove", "x", "--index", str(living)) == set()


def test_the_collection_rule_finds_an_added_collection(living, monkeypatch):
    monkeypatch.setenv("QA_INDEX", str(living))
    assert index.collection().stats == {"documents": 2, "passages": 2}
    assert np.all(index.collection().deleted == [False, False])
