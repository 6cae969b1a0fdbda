"""The BM25 model: rank-bm25's scores with a positive idf, scored through postings."""

import hashlib
from collections import Counter
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from qa import bm25, maxscore
from qa.bm25 import FixedIdfBM25, MaxScoreSettings, Postings, Segment, idf, reference_scores


def test_two_passage_corpus_still_ranks_the_matching_passage_first():
    passages = [["thu", "nhập", "bình", "quân"], ["hộ", "nghèo", "giảm"]]
    # rank-bm25 as shipped gives idf 0 to a term in half the passages: both score 0.
    assert list(BM25Okapi(passages).get_scores(["nghèo"])) == [0.0, 0.0]
    scores = Postings.build(passages).scores({"nghèo": 1})
    assert scores[1] > 0 and scores[0] == 0


def test_term_in_more_than_half_the_passages_keeps_a_positive_idf():
    passages = [["đảng", "viên"], ["đảng", "bộ"], ["đảng", "ủy"], ["xã", "hội"]]
    assert idf(4, 3) > 0 and idf(4, 2) > idf(4, 3)
    scores = Postings.build(passages).scores({"đảng": 1})
    assert all(scores[:3] > 0) and scores[3] == 0
    assert np.allclose(scores, FixedIdfBM25(passages).get_scores(["đảng"]))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from("abcdef"), max_size=4), min_size=1, max_size=12),
    st.lists(st.sampled_from("abcdefg"), max_size=3),
    st.data(),
)
def test_passages_within_a_range_holding_a_term_are_counted_and_seen(passages, terms, data):
    first = data.draw(st.integers(0, len(passages) - 1))  # a document's passages: one at least
    last = data.draw(st.integers(first + 1, len(passages)))
    postings = Postings.build(passages)
    holding = sum(any(t in passages[n] for t in terms) for n in range(first, last))
    assert postings.passages_within(terms, first, last) == holding
    assert postings.any_within(terms, first, last) == (holding > 0)


def test_repeated_query_terms_count_like_rank_bm25():
    passages = [["a", "b"], ["b", "c"], ["c", "d"]]
    ours = Postings.build(passages).scores(Counter(["b", "b", "c"]))
    assert np.allclose(ours, reference_scores(passages, ["b", "b", "c"]), rtol=1e-6, atol=0)


def test_unknown_terms_score_nothing_and_get_the_highest_idf():
    postings = Postings.build([["a"], ["b"]])
    assert not postings.scores({"zzz": 1}).any()
    assert postings.term_idf(["zzz"])[0] > postings.term_idf(["a"])[0]


vocabulary = st.sampled_from([f"t{i}" for i in range(25)])
corpora = st.lists(st.lists(vocabulary, min_size=1, max_size=30), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(corpora, st.lists(vocabulary, min_size=1, max_size=8), st.integers(1, 10))
def test_postings_score_and_rank_exactly_like_the_rank_bm25_model(passages, query, k):
    postings = Postings.build(passages)
    expected = reference_scores(passages, query)
    ours = postings.scores(Counter(query))
    assert np.allclose(ours, expected, rtol=1e-6, atol=1e-12)
    # Same ranking: descending score, ties broken by passage order, as a stable sort of the reference gives;
    # by numpy adding everything up, and by the compiled MaxScore a server uses.
    for compiled in (False, True):
        postings.compiled = compiled
        top, scores = postings.top(Counter(query), k)
        reference_order = np.lexsort((np.arange(len(expected)), -expected))[: len(top)]
        assert np.allclose(scores, expected[reference_order], rtol=1e-6, atol=1e-12)
        assert np.allclose(expected[top], expected[reference_order], rtol=1e-6, atol=1e-12)


def test_ties_go_to_the_earlier_passage_and_missing_terms_give_the_first_passages():
    postings = Postings.build([["a"], ["b"], ["a"], ["a"], ["a"], ["c"]])
    assert postings.top({"a": 1}, 3)[0].tolist() == [0, 2, 3]
    best, scores = postings.top({"zzz": 1}, 2)
    assert best.tolist() == [0, 1] and not scores.any()


zipf_vocabulary = st.integers(0, 400).map(lambda r: f"t{int(400 / (r + 1))}")  # a few common terms, many rare
big_corpora = st.lists(st.lists(zipf_vocabulary, min_size=1, max_size=40), min_size=20, max_size=300)
weighted_queries = st.dictionaries(zipf_vocabulary, st.floats(0.01, 20), min_size=1, max_size=12)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(big_corpora, weighted_queries, st.integers(1, 12))
def test_top_skipping_long_lists_finds_the_same_passages_as_scoring_them_all(passages, query, k):
    postings = Postings.build(passages)
    every = postings.scores(query)
    expected = np.sort(every)[::-1][:k]
    # A small corpus would be scored whole; here the compiled MaxScore is used, with more or fewer terms starting
    # non-essential, a first threshold from fewer or more candidates, and terms made essential sooner or later.
    pruning = [
        MaxScoreSettings(),
        MaxScoreSettings(16, 16, 0.5),
        MaxScoreSettings(64, 1, 0.5),
        MaxScoreSettings(4, 2, 1.0),
        MaxScoreSettings(400, 16, 0.1),
        MaxScoreSettings(400, 3, 1.0),
    ]
    for maxscore_settings in pruning:
        postings.use_compiled(from_postings=0, settings=maxscore_settings)
        best, scores = postings.top(query, k)
        assert np.allclose(scores, expected, rtol=1e-9, atol=0)
        assert np.allclose(every[best], scores, rtol=1e-9, atol=0)
        assert len(set(best.tolist())) == len(best)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    big_corpora,
    st.lists(st.one_of(zipf_vocabulary, st.sampled_from(["zzz", "yyy"])), min_size=1, max_size=12, unique=True),
    st.integers(1, 12),
    st.data(),
)
def test_a_question_is_ranked_alike_compiled_or_not(passages, terms, k, data):
    postings = Postings.build(passages)
    counts = [1 + i % 3 for i in range(len(terms))]
    positions = st.integers(0, len(terms) - 1)
    pairs = data.draw(st.lists(st.tuples(positions, positions), max_size=6))
    compounds = ([w for w, _ in pairs], [p for _, p in pairs])
    twins = data.draw(st.lists(st.tuples(positions, positions), max_size=3))
    written = ([f for f, _ in twins], [w for _, w in twins])
    plain = postings.ranked(terms, counts, k, compounds, written=written)
    postings.use_compiled(from_postings=0)
    doc_freq, asked_idf, best, scores = postings.ranked(terms, counts, k, compounds, written=written)
    # Terms no passage has ("zzz") are held by 0 passages and get the highest idf less their component's; each term is
    # asked count x the idf it adds to its rarest component.
    assert np.array_equal(doc_freq, plain[0]) and np.allclose(asked_idf, plain[1], rtol=1e-12, atol=0)
    assert np.array_equal(doc_freq, [sum(t in p for p in passages) for t in terms])
    assert np.allclose(
        asked_idf,
        bm25.added_idf(
            postings.idf_of(doc_freq), np.array(compounds[0], dtype=np.int64), np.array(compounds[1], dtype=np.int64)
        ),
        rtol=1e-12,
        atol=0,
    )
    assert np.allclose(scores, plain[3], rtol=1e-9, atol=0)
    unasked = {terms[f] for f, w in twins if not doc_freq[w]}
    every = postings.scores({t: c * a for t, c, a in zip(terms, counts, asked_idf) if t not in unasked})
    assert np.allclose(every[best], scores, rtol=1e-9, atol=0) and len(set(best.tolist())) == len(best)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 2**64 - 1), unique=True, max_size=300),
    st.lists(st.integers(0, 2**64 - 1), max_size=20),
    st.integers(0, 63),
    st.data(),
)
def test_the_compiled_search_finds_what_a_binary_search_does_from_any_guess(keys, wanted, squeeze, data):
    # Term hashes spread evenly, which the guesses count on; squeezed into a narrow range they do not, and every
    # search must still land where np.searchsorted does, for values present, absent and at either end, within any
    # part of the array, whatever the guess.
    keys = np.unique(np.array(keys, dtype=np.uint64) >> np.uint64(squeeze))
    for x in wanted + [int(k) for k in keys[:5]] + [0, 2**64 - 1]:
        x = np.uint64(x >> squeeze if x % 2 else x)
        lo = data.draw(st.integers(0, len(keys)))
        hi = data.draw(st.integers(lo, len(keys)))
        guess = data.draw(st.integers(-5, len(keys) + 5))
        assert maxscore._find(keys, x, lo, hi, guess) == lo + np.searchsorted(keys[lo:hi], x)


def test_a_term_key_is_the_first_8_bytes_of_its_blake2b_as_saved_indexes_have_it():
    terms = ["w:tác_giả", "f:tac", "", "p:chi_linh"]
    expected = [int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest(), "little") for t in terms]
    assert bm25.term_hash(terms).tolist() == expected and bm25.term_hash([]).dtype == np.uint64
    assert bm25.term_hash(terms, remembered=True).tolist() == expected == bm25.term_hash(terms, True).tolist()


def test_a_pair_is_asked_for_what_it_adds_to_its_rarest_syllable():
    # "a b" is in every passage that has "b": it says nothing more and is not asked; "a" alone still counts.
    passages = [["a", "b", "a b"], ["a", "b", "a b"], ["a"], ["c"], ["c"], ["c"]]
    postings = Postings.build(passages)
    doc_freq, asked_idf, best, scores = postings.ranked(["a", "b", "a b"], [1, 1, 1], 3, ([2, 2], [0, 1]))
    assert asked_idf[2] == 0 and asked_idf[0] == postings.term_idf(["a"])[0] and doc_freq[2] == 2
    expected = postings.scores({"a": asked_idf[0], "b": asked_idf[1]})
    assert np.allclose(scores, np.sort(expected)[::-1][:3])
    assert best[:2].tolist() == [0, 1]


@pytest.mark.parametrize("compiled", [False, True])
def test_a_folded_syllable_is_asked_only_when_some_passage_writes_it_as_the_question_does(compiled):
    # "diễn" asked of passages that write "diện" (folded "dien" both) and never "diễn": "dien" is not asked, "ra" is.
    passages = [["s:diện", "f:dien", "s:mạo"], ["s:ra", "f:ra"], ["s:khác", "f:khac"]] * 3
    postings = Postings.build(passages)
    if compiled:
        postings.use_compiled(from_postings=0)
    asked = ["s:diễn", "f:dien", "s:ra", "f:ra"]
    doc_freq, asked_idf, best, scores = postings.ranked(asked, [1] * 4, 9, written=([1], [0]))
    assert doc_freq.tolist() == [0, 3, 3, 3] and asked_idf[1] > 0  # its idf is still given
    assert set(best[scores > 0].tolist()) == {1, 4, 7}
    # Written as the question writes it somewhere, the folded syllable is asked as before.
    doc_freq, asked_idf, best, scores = postings.ranked(["s:diện", "f:dien"], [1, 1], 9, written=([1], [0]))
    assert set(best[scores > 0].tolist()) == {0, 3, 6}


def test_the_compiled_top_leaves_its_running_totals_at_zero_for_the_next_question():
    postings = Postings.build([["a", "b"], ["b"], ["c", "a"], ["b", "b", "c"]] * 10)
    postings.use_compiled(from_postings=0, settings=MaxScoreSettings(common_share=4))
    first = postings.top({"a": 1.0, "b": 0.5}, 3)
    postings.top({"c": 2.0}, 5)
    again = postings.top({"a": 1.0, "b": 0.5}, 3)
    assert first[0].tolist() == again[0].tolist() and np.array_equal(first[1], again[1])
    assert not maxscore._buffers(postings.n_passages)[0].any()


def test_counts_too_large_to_pack_take_the_slower_sort():
    keys = np.array([3, 9], dtype=np.uint64)
    counts = np.array([2**61, 1, 1], dtype=np.int64)  # no room beside a row and a passage in 64 bits
    segment = Segment.from_bags(keys, np.array([0, 1, 0]), np.array([0, 0, 1]), counts, 2)
    assert segment.indptr.tolist() == [0, 2, 3] and segment.passage.tolist() == [0, 1, 0]
    assert segment.tf.tolist() == [2.0**61, 1, 1] and segment.lengths.tolist() == [np.float32(2**61 + 1), 1.0]
    lengths = np.array([2**61 + 1, 1.0])
    norm = 1.5 * (1 - 0.75 + 0.75 * lengths / lengths.mean())
    tf = np.array([2.0**61, 1, 1])
    assert np.allclose(segment.peak, [max(tf[:2] / (tf[:2] + norm)), tf[2] / (tf[2] + norm[0])], rtol=1e-6)


def test_the_compiled_top_is_used_once_asked_for_and_only_for_a_large_corpus():
    postings = Postings.build([["a", "b"], ["b"], ["c"]])
    with mock.patch.object(maxscore, "top", wraps=maxscore.top) as compiled:
        postings.top({"b": 1.0}, 2)  # not asked for: numpy adds everything up
        postings.use_compiled()  # 4 postings: a small corpus, scored whole
        assert not compiled.called and not postings.compiled
        postings.use_compiled(from_postings=4)
        assert compiled.call_count == 1 and postings.compiled
        assert postings.top({"b": 1.0}, 2)[0].tolist() == [1, 0]
        assert compiled.call_count == 2
    assert not maxscore._buffers(postings.n_passages)[0].any()


def _segments_of(passages: list[list[str]], cuts: list[int]) -> Postings:
    """The passages in segments cut at these positions, each segment built on its own (its own average length)."""
    edges = [0] + sorted(set(c for c in cuts if 0 < c < len(passages))) + [len(passages)]
    return Postings([Postings.build(passages[a:b]).segments[0] for a, b in zip(edges, edges[1:])])


def _with_deleted(postings: Postings, passages: list[list[str]], deleted: set[int]) -> Postings:
    """The same segments with the passages numbered in deleted marked deleted, their postings counted per term."""
    masks, counts = [], []
    for s, segment in enumerate(postings.segments):
        first = int(postings.offsets[s])
        mask = np.array([first + i in deleted for i in range(segment.n_passages)], dtype=bool)
        held = Counter(t for i in np.flatnonzero(mask).tolist() for t in set(passages[first + i]))
        by_key = dict(zip(bm25.term_hash(list(held)).tolist(), held.values()))
        masks.append(mask if mask.any() else None)
        counts.append(np.array([by_key.get(int(k), 0) for k in segment.keys], dtype=np.int32) if mask.any() else None)
    return Postings(postings.segments, masks, counts)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(big_corpora, weighted_queries, st.integers(1, 12), st.lists(st.integers(0, 300), max_size=4), st.data())
def test_segments_with_deletions_rank_exactly_like_one_index_of_the_live_passages(passages, query, k, cuts, data):
    deleted = set(data.draw(st.lists(st.integers(0, len(passages) - 1), max_size=len(passages) // 2)))
    live = [i for i in range(len(passages)) if i not in deleted]
    one = Postings.build([passages[i] for i in live])
    expected = one.scores(query)
    expected_top = np.lexsort((np.arange(len(live)), -expected))[:k]
    segmented = _with_deleted(_segments_of(passages, cuts), passages, deleted)
    assert segmented.n_live == len(live) and np.isclose(segmented.average, one.average, rtol=1e-12)
    assert np.allclose(segmented.term_idf(list(query)), one.term_idf(list(query)), rtol=1e-12, atol=0)
    every = segmented.scores(query)
    assert np.allclose(every[live], expected, rtol=1e-9, atol=1e-12) and not every[sorted(deleted)].any()
    for maxscore_settings in (None, MaxScoreSettings(), MaxScoreSettings(4, 2, 1.0), MaxScoreSettings(400, 3, 0.1)):
        segmented.compiled = maxscore_settings is not None
        segmented.maxscore = maxscore_settings or MaxScoreSettings()
        best, scores = segmented.top(query, k)
        assert not deleted & set(best.tolist())
        assert np.allclose(scores[scores > 0], expected[expected_top][: len(scores)][scores > 0], rtol=1e-9, atol=1e-12)
        assert np.allclose(every[best], scores, rtol=1e-9, atol=1e-12)
        # The same passages, by the live numbering, where scores are not tied.
        positive = scores > 0
        assert sorted(live.index(b) for b in best[positive].tolist()) == sorted(
            expected_top[: len(scores)][positive].tolist()
        ) or len(set(np.round(scores, 9))) < len(scores)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    big_corpora,
    st.lists(st.one_of(zipf_vocabulary, st.sampled_from(["zzz"])), min_size=1, max_size=12, unique=True),
    st.integers(1, 12),
    st.lists(st.integers(0, 300), max_size=4),
    st.data(),
)
def test_segments_with_deletions_are_ranked_in_one_compiled_call_as_one_index_of_the_live_passages(
    passages, terms, k, cuts, data
):
    deleted = set(data.draw(st.lists(st.integers(0, len(passages) - 1), max_size=len(passages) // 2)))
    live = [i for i in range(len(passages)) if i not in deleted]
    counts = [1 + i % 3 for i in range(len(terms))]
    positions = st.integers(0, len(terms) - 1)
    pairs = data.draw(st.lists(st.tuples(positions, positions), max_size=4))
    compounds = ([w for w, _ in pairs], [p for _, p in pairs])
    one = Postings.build([passages[i] for i in live])
    expected = one.ranked(terms, counts, k, compounds)
    segmented = _with_deleted(_segments_of(passages, cuts), passages, deleted)
    plain = segmented.ranked(terms, counts, k, compounds)
    segmented.use_compiled(from_postings=0)
    with mock.patch.object(maxscore, "top", wraps=maxscore.top) as segment_by_segment:
        doc_freq, asked_idf, best, scores = segmented.ranked(terms, counts, k, compounds)
        assert not segment_by_segment.called  # one call, every segment in it
        # Segment by segment, as a filter that allows every passage is ranked: the same weights and bounds.
        each = segmented.ranked(terms, counts, k, compounds, np.ones(len(passages), dtype=bool))
        assert segment_by_segment.called
    # numba's log1p and numpy's may differ in the last bit: the idf is equal to 1e-12, scores to 1e-9.
    assert np.array_equal(doc_freq, expected[0]) and np.array_equal(doc_freq, plain[0])
    assert np.allclose(asked_idf, plain[1], rtol=1e-12, atol=0) and np.allclose(
        asked_idf, expected[1], rtol=1e-12, atol=0
    )
    assert not deleted & set(best.tolist()) and len(set(best.tolist())) == len(best)
    for other in (each, plain, expected):
        assert np.allclose(scores, other[3][: len(scores)], rtol=1e-9, atol=1e-12)
        assert not other[3][len(scores) :].any()  # a passage left out scores nothing (deleted, or none of the terms)
    # The same passages, by the collection's numbering, where scores are not tied.
    positive = scores > 0
    distinct = len(set(np.round(scores, 9))) == len(scores)
    assert not distinct or np.array_equal(
        np.array(live, dtype=np.int64)[expected[2][: len(scores)]][positive], best[positive]
    )
    assert not distinct or np.array_equal(each[2], best)


@settings(max_examples=150, deadline=None)
@given(
    big_corpora,
    st.lists(st.one_of(zipf_vocabulary, st.sampled_from(["zzz"])), min_size=1, max_size=5),
    st.lists(st.integers(0, 300), max_size=4),
    st.data(),
)
def test_terms_are_looked_up_alike_compiled_or_not(passages, terms, cuts, data):
    deleted = set(data.draw(st.lists(st.integers(0, len(passages) - 1), max_size=len(passages) // 2)))
    postings = _with_deleted(_segments_of(passages, cuts), passages, deleted)
    s = data.draw(st.integers(0, len(postings.segments) - 1))
    first = data.draw(st.integers(int(postings.offsets[s]), int(postings.offsets[s + 1]) - 1))
    last = data.draw(st.integers(first, int(postings.offsets[s + 1])))
    held = [sum(t in passages[i] for i in range(len(passages)) if i not in deleted) for t in terms]
    within = any(t in passages[i] for i in range(first, last) for t in terms)
    for compiled in (False, True):
        postings.compiled = compiled
        assert postings.doc_freq(terms).tolist() == held
        assert postings.any_within(terms, first, last) == within


def test_a_collection_whose_average_length_grew_still_bounds_every_weight():
    # Peaks are computed at a segment's own average length; a collection whose average is longer raises every
    # weight, and the bound must follow (bound_scale), or MaxScore would skip a passage that belongs in the top k.
    short = Postings.build([["a", "b"]] * 30 + [["a"]] * 30).segments[0]
    long = Postings.build([[f"x{i}" for i in range(50)]] * 30).segments[0]
    postings = Postings([short, long])
    assert postings.average > short.average
    postings.use_compiled(from_postings=0, settings=MaxScoreSettings(1, 1, 1.0))
    best, scores = postings.top({"a": 1.0, "b": 1.0}, 5)
    every = postings.scores({"a": 1.0, "b": 1.0})
    assert np.allclose(scores, np.sort(every)[::-1][:5], rtol=1e-9)


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(big_corpora, weighted_queries, st.integers(1, 12), st.lists(st.integers(0, 300), max_size=3), st.data())
def test_a_filter_keeps_the_collections_statistics_and_ranks_only_the_passages_it_allows(
    passages, query, k, cuts, data
):
    postings = _segments_of(passages, cuts)
    allowed = np.array(data.draw(st.lists(st.booleans(), min_size=len(passages), max_size=len(passages))))
    every = postings.scores(query)
    kept = np.flatnonzero(allowed)
    expected = every[kept][np.lexsort((kept, -every[kept]))][:k]
    for compiled in (False, True):
        postings.compiled = compiled
        best, scores = postings.top(query, k, allowed)
        assert allowed[best].all() and np.allclose(every[best], scores, rtol=1e-9, atol=1e-12)
        assert np.allclose(scores[scores > 0], expected[: len(scores)][scores > 0], rtol=1e-9, atol=1e-12)
