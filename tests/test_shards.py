"""Sharded collections: documents by id hash, ranked with the whole collection's statistics, answered exactly as
one collection of the same documents."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from sharded_corpus import DATA, questions, same_answers, write_documents

from qa import collection, index, shards, store
from qa.bm25 import CollectionStats, Postings
from qa.cli import main
from qa.search import Engine


@st.composite
def sharded_corpora(draw):
    """Documents of one to three passages of terms from a small vocabulary, a shard count, a query and k."""
    vocabulary = [f"t{i}" for i in range(draw(st.integers(2, 12)))]
    term = st.sampled_from(vocabulary)
    documents = draw(
        st.lists(st.lists(st.lists(term, min_size=1, max_size=12), min_size=1, max_size=3), min_size=1, max_size=30)
    )
    count = draw(st.integers(1, 5))
    query = draw(st.lists(st.sampled_from(vocabulary + ["unseen"]), min_size=1, max_size=5, unique=True))
    counts = draw(st.lists(st.integers(1, 3), min_size=len(query), max_size=len(query)))
    return documents, count, query, counts, draw(st.integers(1, 12))


@settings(max_examples=150, deadline=None)
@given(sharded_corpora())
def test_merged_shard_top_k_is_the_single_index_top_k(case):
    documents, count, query, counts, k = case
    passages = [(d, terms) for d, document in enumerate(documents) for terms in document]
    whole = Postings.build([terms for _, terms in passages])
    groups: list[list[int]] = [[] for _ in range(count)]  # passage numbers of the whole, by shard
    for number, (d, _) in enumerate(passages):
        groups[shards.shard_of(f"doc-{d}", count)].append(number)
    parts = [(Postings.build([passages[n][1] for n in group]), group) for group in groups if group]
    stats = CollectionStats.summed([p.stats_for(query) for p, _ in parts])
    assert (stats.n_live, stats.total_length) == (whole.n_live, whole.total_length)
    doc_freq, asked_idf, numbers, scores = whole.ranked(query, counts, k)
    merged = []
    for part, group in parts:
        part_freq, part_idf, part_numbers, part_scores = part.ranked(query, counts, k, stats=stats)
        np.testing.assert_array_equal(part_freq, doc_freq)
        np.testing.assert_allclose(part_idf, asked_idf, rtol=1e-12)
        merged += [(score, group[n]) for n, score in zip(part_numbers.tolist(), part_scores.tolist())]
    merged.sort(key=lambda pair: -pair[0])
    merged = merged[:k]
    np.testing.assert_allclose([s for s, _ in merged], scores, atol=1e-6)
    every = dict(zip(*whole.ranked(query, counts, len(passages))[2:]))
    for score, number in merged:  # the same passages, ties at the k-th score aside
        assert every[number] == pytest.approx(score, abs=1e-6)


def test_a_shard_ranked_alone_scores_with_its_own_statistics():
    # Without the collection's statistics a shard ranks as a collection of its own: the single-machine path.
    part = Postings.build([["a", "b"], ["a"], ["c"]])
    own = part.ranked(["a"], [1], 3)
    assert np.allclose(own[3], part.ranked(["a"], [1], 3, stats=part.stats_for(["a"]))[3])
    larger = CollectionStats(30, 90.0, {"a": 2})
    assert not np.allclose(own[3], part.ranked(["a"], [1], 3, stats=larger)[3])


def test_shard_of_is_stable_and_spreads_documents():
    assert shards.shard_of("chi-linh", 4) == shards.shard_of("chi-linh", 4)
    assert shards.shard_of("chi-linh", 1) == 0
    counts = np.bincount([shards.shard_of(f"doc-{i}", 4) for i in range(400)], minlength=4)
    assert counts.min() > 60


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> list[Path]:
    return write_documents(tmp_path_factory.mktemp("documents"))


@pytest.fixture(scope="module")
def built(documents, tmp_path_factory) -> tuple[Path, Path]:
    """The documents as one collection and as three shards."""
    single, sharded = tmp_path_factory.mktemp("single"), tmp_path_factory.mktemp("sharded")
    index.build(documents, single)
    shards.build(documents, sharded, 3)
    return single, sharded


def test_shards_split_the_documents_by_id_hash(built):
    single, sharded = built
    whole = store.load(single)
    parts = [store.load(d) for d in shards.shard_dirs(sharded)]
    assert [d.name for d in shards.shard_dirs(sharded)] == ["shard-000", "shard-001", "shard-002"]
    assert sorted(d["id"] for p in parts for d in p.documents) == sorted(d["id"] for d in whole.documents)
    for number, part in enumerate(parts):
        assert all(shards.shard_of(d["id"], 3) == number for d in part.documents)
    assert sum(p.postings.n_live for p in parts) == whole.postings.n_live


def test_a_sharded_collection_answers_as_one_collection(built):
    single, sharded = built
    one = Engine(store.load(single))
    many = Engine(shards.ShardedIndex(shards.LocalShards(sharded)))
    assert many.stats["passages"] == one.stats["passages"]
    assert [s["name"] for s in many.stats["shards"]] == ["shard-000", "shard-001", "shard-002"]
    found = 0
    for question in questions():
        expected = one.ask(question).to_dict()
        same_answers(many.ask(question).to_dict(), expected)
        found += expected["found"]
    assert found > 50  # the questions are answered, not only refused


def test_cli_builds_shards_and_asks_them(documents, built, tmp_path):
    single, _ = built
    out = tmp_path / "sharded"
    runner = CliRunner()
    result = runner.invoke(main, ["index", "build", *map(str, documents), "--shards", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 shards" in result.output
    question = "Ai là Bí thư Thành ủy Chí Linh?"
    asked = runner.invoke(main, ["ask", question, "--index", str(out), "--json"])
    expected = runner.invoke(main, ["ask", question, "--index", str(single), "--json"])
    assert asked.exit_code == expected.exit_code == 0
    same_answers(json.loads(asked.output), json.loads(expected.output))


def test_an_unreadable_shard_list_is_named(tmp_path):
    (tmp_path / shards.SHARDS).write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(main, ["ask", "Chí Linh ở đâu?", "--index", str(tmp_path)])
    assert result.exit_code == 2
    assert shards.SHARDS in result.output


def test_the_base_install_never_imports_ray():
    code = "import sys, qa.cli, qa.server; print('ray' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_ray_options_need_a_sharded_collection(built):
    single, _ = built
    runner = CliRunner()
    result = runner.invoke(main, ["serve", "--ray", "auto", "--index", str(single)])
    assert result.exit_code == 2
    assert "not sharded" in result.output
    result = runner.invoke(main, ["index", "build", str(DATA / "pages"), "--out", str(single / "x"), "--ray", "auto"])
    assert result.exit_code == 2
    assert "--shards" in result.output


def test_adding_and_removing_documents_keeps_the_shards_answering_as_one_collection(documents, tmp_path):
    article, pages, paragraphs = documents
    single, sharded = tmp_path / "single", tmp_path / "sharded"
    index.build([article, pages], single)
    shards.build([article, pages], sharded, 3)
    runner = CliRunner()
    added = runner.invoke(main, ["index", "add", str(paragraphs), "--index", str(sharded)])
    assert added.exit_code == 0, added.output
    collection.add([paragraphs], single)
    refused = runner.invoke(main, ["index", "remove", "pho-bo", "no-such-id", "--index", str(sharded)])
    assert refused.exit_code == 2 and "no-such-id" in refused.output
    removed = runner.invoke(main, ["index", "remove", "pho-bo", "para-3", "--index", str(sharded)])
    assert removed.exit_code == 0, removed.output
    collection.remove(["pho-bo", "para-3"], single)
    for number, folder in enumerate(shards.shard_dirs(sharded)):
        assert all(shards.shard_of(d["id"], 3) == number for _, d in store.load(folder).live_documents())
    one = Engine(store.load(single))
    many = Engine(shards.ShardedIndex(shards.LocalShards(sharded)))
    assert many.stats["passages"] == one.stats["passages"]
    for question in questions(100):
        same_answers(many.ask(question).to_dict(), one.ask(question).to_dict())


def test_shards_may_be_empty(tmp_path):
    shards.build([index.default_corpus()], tmp_path, 4)  # one document: three shards hold none
    many = Engine(shards.ShardedIndex(shards.LocalShards(tmp_path)))
    one = Engine(store.load(index.ensure(tmp_path / "one", [index.default_corpus()]).directory))
    question = "Ai là Bí thư Thành ủy Chí Linh?"
    same_answers(many.ask(question).to_dict(), one.ask(question).to_dict())
