"""Deciding whether the best passage answers: names spelt a letter off, and the share of content it holds."""
import pytest

from qa.found import name_nearly_in, near


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
