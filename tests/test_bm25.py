"""The BM25 model: rank-bm25's scores with a positive idf, scored through postings."""
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from qa.bm25 import FixedIdfBM25, Postings, idf, reference_scores


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
    top, scores = postings.top(Counter(query), k)
    # Same ranking: descending score, ties broken by passage order, as a stable sort of the reference gives.
    reference_order = np.lexsort((np.arange(len(expected)), -expected))[: len(top)]
    assert np.allclose(scores, expected[reference_order], rtol=1e-6, atol=1e-12)
    assert np.allclose(expected[top], expected[reference_order], rtol=1e-6, atol=1e-12)
