"""The benchmark corpus generator: reproducible from its seed, exact in size, with a vocabulary that keeps growing."""

import importlib.util
import json
import re
import sys
import unicodedata
from pathlib import Path

import pytest

from qa import corpus
from qa.text import STOPWORDS, fold

# bench/ holds scripts, not a package: load the generator from its file.
_SPEC = importlib.util.spec_from_file_location("bench_corpora", Path(__file__).parent.parent / "bench" / "corpora.py")
corpora = sys.modules["bench_corpora"] = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(corpora)
_SPEC = importlib.util.spec_from_file_location("bench_baseline", Path(__file__).parent.parent / "bench" / "baseline.py")
baseline = sys.modules["bench_baseline"] = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(baseline)

TEXT = [
    "Thành phố Chí Linh đã tổ chức hội nghị sơ kết giữa nhiệm kỳ. Thu nhập bình quân đầu người năm 2022 đạt "
    "75 triệu đồng. Tỷ lệ hộ nghèo giảm còn 1,2%.",
    "Đảng bộ thành phố kết nạp 640 đảng viên mới, vượt chỉ tiêu đề ra. Công tác xây dựng Đảng được chú trọng.\n"
    "Thành phố tập trung phát triển công nghiệp, du lịch và dịch vụ. Người dân tích cực tham gia phong trào thi đua.",
]


def generate(n: int, seed: int = 7) -> list[dict]:
    return list(corpora.Generator(TEXT, seed).documents(n))


def test_same_seed_same_corpus_and_queries():
    assert generate(300) == generate(300)
    assert corpora.queries(generate(300), 20, 7) == corpora.queries(generate(300), 20, 7)
    assert generate(300) != generate(300, seed=8)


def test_a_smaller_corpus_is_the_start_of_a_larger_one():
    small, large = generate(100), generate(400)
    assert [d["title"] for d in small] == [d["title"] for d in large[: len(small)]]
    assert small[:-1] == large[: len(small) - 1]


def test_vocabulary_keeps_growing_beyond_the_source_text():
    source = len(corpora.vocabulary([{"title": "", "text": "\n".join(TEXT)}]))
    sizes = [len(corpora.vocabulary(generate(n))) for n in (100, 400, 1600)]
    assert source < sizes[0] < sizes[1] < sizes[2]
    assert sizes[2] > 1.5 * sizes[1]


def test_generated_syllables_are_spelled_like_vietnamese():
    lexicon = corpora.Generator(TEXT, 7).lexicon
    assert len(lexicon.syllables) > 1000
    assert all(corpora._split(s) for s in lexicon.syllables)
    misspelt = re.compile(r"^(k[^hiey]|c[iey]|n?gh[^ie]|n?g[ey]|n?ghy|[^aeiouy]+y[^\W])")  # NFD: ê is e + mark
    assert not [s for s in lexicon.syllables if misspelt.match(unicodedata.normalize("NFD", s))]
    assert lexicon.word(1) == lexicon.syllables[0] and len(lexicon.word(len(lexicon.syllables) + 1).split()) == 2


def test_every_line_is_exactly_one_passage_for_the_indexer(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in generate(250)), encoding="utf-8")
    documents = list(corpus.read_documents([path]))
    assert all(isinstance(d, corpus.Document) for d in documents)
    assert sum(len(corpus.passages(d)) for d in documents) == 250


def test_queries_are_cut_from_their_passage():
    documents = generate(200)
    passages = [line for d in documents for line in d["text"].split("\n")]
    asked = corpora.queries(documents, 40, 7)
    assert len({q["passage"] for q in asked}) == 40
    frames = {fold(w).lower() for frame in corpora.QUERY_FRAMES for w in corpora._TOKEN.findall(frame)}
    for query in asked:
        words = [fold(w).lower() for w in corpora._TOKEN.findall(query["question"])]
        assert len([w for w in words if w not in {fold(s) for s in STOPWORDS}]) >= 3
        source = corpora._TOKEN.findall(fold(passages[query["passage"]]).lower())
        assert all(w in source for w in words if w not in frames)


def test_write_makes_the_files_once(tmp_path):
    out = corpora.write(tmp_path / "tiny", TEXT, 50, seed=3, n_queries=10)
    written = (out / "corpus.jsonl").stat().st_mtime_ns
    assert len(json.loads((out / "queries.json").read_text(encoding="utf-8"))) == 10
    corpora.write(tmp_path / "tiny", TEXT, 50, seed=3, n_queries=10)
    assert (out / "corpus.jsonl").stat().st_mtime_ns == written


def test_no_sentences_is_a_clear_error():
    with pytest.raises(ValueError, match="no sentences"):
        corpora.Generator(["1234 5678"])


def test_the_http_baseline_answers_like_our_server_through_the_same_app(default_index_dir, engine):
    from qa import store
    from qa.server import create_app

    plain = baseline.PlainEngine(store.load(default_index_dir))
    question = "Thu nhập bình quân đầu người năm 2022 đạt bao nhiêu?"
    client = create_app(plain, ()).test_client()
    response = client.post("/api/ask", json={"question": question, "top_k": 5})
    assert response.status_code == 200
    answers = response.get_json()["answers"]
    scores = [a["score"] for a in answers]
    assert len(answers) == 5 and scores == sorted(scores, reverse=True)
    assert answers[0]["passage_id"] == engine.ask(question).answers[0].passage_id
    assert not client.post("/api/ask", json={"question": "zzzz qqqq"}).get_json()["found"]


@pytest.mark.slow
def test_changes_times_adds_and_removes_on_a_copy_of_the_index(tmp_path):
    from qa import index

    sys.modules.setdefault("corpora", corpora)  # speed.py imports it by name, from its own folder
    spec = importlib.util.spec_from_file_location("bench_speed", Path(__file__).parent.parent / "bench" / "speed.py")
    speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speed)
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in generate(40)), encoding="utf-8")
    index.build([path], tmp_path / "index")
    manifest = (tmp_path / "index" / "manifest.json").read_text()
    figures = speed.changes(tmp_path / "index", path, rounds=2)
    assert len(figures["adds"]) == len(figures["removes"]) == 2 and figures["segments"] == 3
    assert figures["add_cpu_s"] > 0 and figures["remove_s"] > 0
    assert (tmp_path / "index" / "manifest.json").read_text() == manifest  # the copy was changed, not the index
