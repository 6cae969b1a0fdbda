"""Normalising, folding and analysing Vietnamese text."""
import unicodedata

from qa.text import analyse, analyse_question, fold, has_marks, normalise, syllables


def test_normalise_composes_nfd_and_cleans_spaces():
    nfd = unicodedata.normalize("NFD", "Thu nhập\u00a0bình   quân")
    assert normalise(nfd) == "Thu nhập bình quân"


def test_normalise_unifies_tone_placement():
    assert normalise("hoà thuỷ Uỷ ban khoẻ") == normalise("hòa thủy Ủy ban khỏe") == "hòa thủy Ủy ban khỏe"


def test_normalise_leaves_closed_syllables_and_qu_alone():
    assert normalise("hoàng quý khuỳnh") == "hoàng quý khuỳnh"


def test_normalise_drops_invisible_and_control_characters():
    assert normalise("a\u200bb\x00c\ufeff") == "ab c"


def test_fold_strips_marks_and_d_and_keeps_length():
    assert fold("Đảng bộ thành phố Chí Linh") == "Dang bo thanh pho Chi Linh"
    text = "Thu nhập bình quân đầu người"
    assert len(fold(text)) == len(text)


def test_has_marks():
    assert has_marks("đường") and not has_marks("duong pho")


def test_syllables_have_offsets():
    text = "Chí Linh, 2022."
    assert [(s, e, w) for s, e, w in syllables(text)] == [(0, 3, "chí"), (4, 8, "linh"), (10, 14, "2022")]
    assert all(text[s:e].lower() == w for s, e, w in syllables(text))


def test_analyse_gives_words_syllables_and_folded_pairs():
    terms = analyse("Thu nhập bình quân")
    assert "w:thu_nhập" in terms and "s:nhập" in terms
    assert "f:nhap" in terms and "p:thu_nhap" in terms and "p:nhap_binh" in terms


def test_pairs_do_not_cross_punctuation():
    assert "p:ban_thanh" not in analyse("Ủy ban, thành phố")


def test_abbreviations_expand_to_full_form():
    short = set(analyse("Chủ tịch UBND TP Chí Linh"))
    full = set(analyse("Chủ tịch Ủy ban nhân dân thành phố Chí Linh"))
    assert {"p:uy_ban", "p:nhan_dan", "p:thanh_pho", "p:dan_thanh"} <= short & full


def test_question_forms_meet_the_same_terms():
    question = "Thu nhập bình quân đầu người là bao nhiêu?"
    marked, _ = analyse_question(question)
    assert analyse_question(unicodedata.normalize("NFD", question))[0] == marked
    assert analyse_question(question.replace("hoà", "hòa"))[0] == marked
    shouted, _ = analyse_question(question.upper())
    # Segmentation may differ with case; syllables and pairs, which carry most of the score, may not.
    assert {t for t in shouted if t[0] != "w"} == {t for t in marked if t[0] != "w"}
    assert analyse_question("Hoà bình")[0] == analyse_question("Hòa bình")[0]
    folded, keywords = analyse_question("thu nhap binh quan dau nguoi la bao nhieu")
    assert {"f:thu", "f:nhap", "p:thu_nhap", "p:binh_quan", "f:dau"} <= set(folded)
    assert "dau" in keywords


def test_question_phrases_carry_no_terms():
    terms, keywords = analyse_question("Ai là Bí thư Thành ủy?")
    assert "f:ai" not in terms and "ai" not in keywords
    terms, keywords = analyse_question("Thu nhập là bao nhiêu?")
    assert "f:bao" not in terms and "p:bao_nhieu" not in terms and "nhieu" not in keywords


def test_unmarked_question_keeps_ambiguous_syllables():
    # "ha" may be "hả" (a question word) or "Hà" (a place): without marks it must stay.
    _, keywords = analyse_question("ha noi")
    assert keywords == ["ha", "noi"]


def test_marked_question_drops_dau_only_as_a_question_word():
    _, keywords = analyse_question("đầu người ở đâu")
    assert "dau" in keywords and keywords.count("dau") == 1
