"""Deciding whether the best passage answers: names spelt a letter off, and the share of content it holds."""
import pytest

from qa.found import MIN_SHARE, credible, name_nearly_in, near, unseen_pair_share


@pytest.mark.parametrize("a,b", [("maastricht", "maastrich"), ("seaman", "seamans"), ("bendigo", "bedigo"),
                                 ("zeira", "zeria"), ("kenya", "kenya"), ("loudoun", "loudoum")])
def test_one_letter_off_is_near(a, b):
    assert near(a, b) and near(b, a)


@pytest.mark.parametrize("a,b", [("gandhi", "ghandi"), ("zeira", "ariez"), ("seaman", "seamanship"), ("ab", "bac")])
def test_more_than_one_letter_off_is_not_near(a, b):
    assert not near(a, b)


def test_a_long_name_may_be_a_letter_off():
    assert name_nearly_in(["maastrich"], ["hiep", "uoc", "maastricht"])
    assert name_nearly_in(["graham", "twigg"], ["ong", "graham", "twig", "cho"])


def test_a_short_syllable_must_match_exactly():
    # "Đà Nẵng" is not "đà năng" one letter off, nor "Hà Nội" "hà nọi": Vietnamese syllables are short and many.
    assert not name_nearly_in(["da", "nang"], ["da", "nan", "va"])
    assert not name_nearly_in(["nang"], ["nan"])


def test_a_name_of_several_syllables_needs_a_pair_side_by_side():
    assert not name_nearly_in(["graham", "twigg"], ["graham", "noi", "twigg"])


def test_unseen_pairs_count_only_content_syllables_the_corpus_knows():
    pairs = [("thai", "san"), ("nghi", "thai"), ("may", "thang"), ("xyzw", "thang")]
    content = {"thai", "san", "nghi", "thang", "xyzw"}
    seen = {"f:thai", "f:san", "f:nghi", "f:thang", "p:nghi_thai"}
    # ("may", "thang"): "mấy" is no content; ("xyzw", "thang"): a syllable the corpus lacks may be a typo.
    assert unseen_pair_share(pairs, content, seen) == 0.5
    assert unseen_pair_share([], content, seen) == 0.0


def test_a_question_whose_phrases_the_corpus_lacks_needs_more_of_it_held():
    assert credible(MIN_SHARE, 0.0)
    assert not credible(MIN_SHARE, 1.0)
    assert credible(MIN_SHARE + 0.1, 1.0)
