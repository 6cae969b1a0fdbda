"""Index terms: made and read back by qa.terms alone, spelt as the indexes already saved have them."""

from qa import terms
from qa.bm25 import term_hash


def test_terms_are_spelt_as_saved_indexes_have_them():
    # A saved index holds only the hashes of its terms: another spelling would find nothing in it.
    made = [
        terms.word(["tác", "giả"]),
        terms.syllable("nhập"),
        terms.folded("tac"),
        terms.pair("chi", "linh"),
        terms.count(["de", "an"]),
    ]
    assert term_hash(made).tolist() == [
        0x5278583FFF6C00C0,
        0x0AD5451DB55281B4,
        0xD8954C25851927B3,
        0xCDEB204C4EFDD6FA,
        0x6EDDB56EE84DA58C,
    ]


def test_a_term_says_its_kind_and_its_syllables():
    assert [
        terms.kind(t)
        for t in (
            terms.word(["thu", "nhập"]),
            terms.syllable("nhập"),
            terms.folded("nhap"),
            terms.pair("thu", "nhap"),
            terms.count(["de"]),
        )
    ] == [terms.WORD, terms.SYLLABLE, terms.FOLDED, terms.PAIR, terms.COUNT]
    assert terms.syllables(terms.word(["thu", "nhập"])) == ["thu", "nhập"]
    assert terms.syllables(terms.count(["de", "an"])) == ["de", "an"]


def test_a_pair_and_a_word_are_made_of_their_syllables():
    assert terms.parts(terms.pair("thanh", "pho")) == [terms.folded("thanh"), terms.folded("pho")]
    assert terms.parts(terms.word(["thành", "phố"])) == [terms.syllable("thành"), terms.syllable("phố")]
    assert terms.parts(terms.folded("thanh")) == [] == terms.parts(terms.count(["de", "an"]))
