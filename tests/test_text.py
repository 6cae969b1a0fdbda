"""Normalising, folding and analysing Vietnamese text."""

import re
import unicodedata

from qa import terms
from qa.settings import KEYWORD_SYLLABLES
from qa.terms import count, folded, pair, syllable, word
from qa.text import (
    analyse,
    analyse_question,
    find_word,
    fold,
    folded_text,
    has_marks,
    normalise,
    proper_names,
)


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
    # Marks typed as separate characters, and other scripts' letters that decompose, fold the same way.
    assert fold(unicodedata.normalize("NFD", text)) == fold(text) == "Thu nhap binh quan dau nguoi"
    assert fold("Ärger Ñandú Å 한국") == "Arger Nandu A 한국"


def test_has_marks():
    assert has_marks("đường") and not has_marks("duong pho")


def _syllables(folded: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", folded)]


def test_folded_text_has_the_offsets_of_the_text():
    text = "Chí Linh, 2022. ĐẢNG ủy"
    found = _syllables(folded_text(text))
    assert found == [(0, 3, "chi"), (4, 8, "linh"), (10, 14, "2022"), (16, 20, "dang"), (21, 23, "uy")]
    assert all(fold(text[s:e].lower()) == w for s, e, w in found)


def test_folded_text_keeps_offsets_through_odd_characters():
    # A stray combining mark, a dotted capital I (two characters lowercased) and a non-Latin script.
    text = "a\u0301 İstanbul Москва 東京"
    found = _syllables(folded_text(text))
    assert [w for _, _, w in found] == ["a", "istanbul", "москва", "東京"]
    assert [text[s:e] for s, e, _ in found] == ["a", "İstanbul", "Москва", "東京"]


def test_a_run_of_odd_characters_does_not_grow_the_fold_tables():
    from qa.text import _FOLDED_LOWER, _UNMARKED

    fold("Chí Linh"), folded_text("Chí Linh")
    sizes = len(_UNMARKED), len(_FOLDED_LOWER)
    odd = "".join(map(chr, range(0x4E00, 0x4E00 + 5000)))  # five thousand CJK characters, each met once
    assert fold(odd) == odd and folded_text(odd) == odd
    assert (len(_UNMARKED), len(_FOLDED_LOWER)) == sizes


def test_folded_text_keeps_offsets_and_whole_syllables_are_found_in_it():
    text = "Bản đồ: UBND, ban ngày. An-an!"
    folded = folded_text(text)
    assert len(folded) == len(text) and folded.split() == ["ban", "do", "ubnd", "ban", "ngay", "an", "an"]
    assert find_word(folded, "an", 0) == text.index("An")  # not the "an" inside "Bản" or "ban"
    assert find_word(folded, "an", text.index("An") + 2) == text.index("-an") + 1
    assert find_word(folded, "ban", 1) == text.index("ban") and find_word(folded, "ubn", 0) == -1


def test_analyse_gives_words_syllables_and_folded_pairs():
    analysed = analyse("Thu nhập bình quân")
    assert word(["thu", "nhập"]) in analysed and syllable("nhập") in analysed
    assert folded("nhap") in analysed and pair("thu", "nhap") in analysed and pair("nhap", "binh") in analysed


def test_pairs_do_not_cross_punctuation():
    assert pair("ban", "thanh") not in analyse("Ủy ban, thành phố")


def test_abbreviations_expand_to_full_form():
    short = set(analyse("Chủ tịch UBND TP Chí Linh"))
    full = set(analyse("Chủ tịch Ủy ban nhân dân thành phố Chí Linh"))
    assert {pair("uy", "ban"), pair("nhan", "dan"), pair("thanh", "pho"), pair("dan", "thanh")} <= short & full


def test_a_percent_sign_is_read_as_the_words_people_type():
    passage = set(analyse("Tỷ lệ hộ nghèo giảm còn 1%."))
    percent = word(["phần", "trăm"])
    assert {percent, pair("phan", "tram"), pair("1", "phan"), count(["phan", "tram"])} <= passage
    asked = dict(analyse_question("Tỷ lệ hộ nghèo còn bao nhiêu phần trăm?").terms)
    assert {percent, pair("phan", "tram"), count(["phan", "tram"])} <= set(asked)


def question_terms(question: str) -> dict:
    return dict(analyse_question(question).terms)


def test_question_forms_meet_the_same_terms():
    question = "Thu nhập bình quân đầu người là bao nhiêu?"
    marked = question_terms(question)
    assert question_terms(unicodedata.normalize("NFD", question)) == marked
    shouted = question_terms(question.upper())
    # Segmentation may differ with case; syllables and pairs, which carry most of the score, may not.
    assert {t for t in shouted if terms.kind(t) != terms.WORD} == {t for t in marked if terms.kind(t) != terms.WORD}
    assert question_terms("Hoà bình") == question_terms("Hòa bình")
    unmarked = analyse_question("thu nhap binh quan dau nguoi la bao nhieu")
    assert {folded("thu"), folded("nhap"), pair("thu", "nhap"), pair("binh", "quan"), folded("dau")} <= set(
        dict(unmarked.terms)
    )
    assert "dau" in unmarked.keywords


def test_question_phrases_carry_no_terms():
    asked = analyse_question("Ai là Bí thư Thành ủy?")
    assert folded("ai") not in dict(asked.terms) and "ai" not in asked.keywords
    asked = analyse_question("Thu nhập là bao nhiêu?")
    assert folded("bao") not in dict(asked.terms) and pair("bao", "nhieu") not in dict(asked.terms)
    assert "nhieu" not in asked.keywords


def test_a_question_knows_the_syllables_of_its_pairs_and_words():
    asked = analyse_question("Thành phố nào?")
    asked_terms = [t for t, _ in asked.terms]
    compounds = {(asked_terms[compound], asked_terms[component]) for compound, component in zip(*asked.compounds)}
    city = word(["thành", "phố"])
    assert compounds == {
        (pair("thanh", "pho"), folded("thanh")),
        (pair("thanh", "pho"), folded("pho")),
        (city, syllable("thành")),
        (city, syllable("phố")),
    }
    assert analyse_question("Tesla?").compounds == ((), ())


def test_a_question_knows_which_folded_syllables_it_writes_with_marks():
    asked = analyse_question("Hội nghị diễn ra ở Tesla, bị hay bí?")
    asked_terms = [t for t, _ in asked.terms]
    twins = {(asked_terms[f], asked_terms[w]) for f, w in zip(*asked.written)}
    assert (folded("dien"), syllable("diễn")) in twins and (folded("hoi"), syllable("hội")) in twins
    assert not {f for f, _ in twins} & {folded("tesla"), folded("ra"), folded("bi")}  # no marks; written two ways
    assert analyse_question("dien ra o dau?").written == ((), ())


def test_unmarked_question_keeps_ambiguous_syllables():
    # "ha" may be "hả" (a question word) or "Hà" (a place): without marks it must stay.
    assert analyse_question("ha noi").keywords == ("ha", "noi")


def test_marked_question_drops_dau_only_as_a_question_word():
    keywords = analyse_question("đầu người ở đâu").keywords
    assert keywords.count("dau") == 1


def test_proper_names_are_runs_of_capitals_but_not_a_lone_first_word():
    assert proper_names("Thành phố Đà Nẵng có bao nhiêu quận?") == [["đà", "nẵng"]]
    assert proper_names("Ông Nguyễn Văn Kiên làm gì ở Hà Nội?") == [["ông", "nguyễn", "văn", "kiên"], ["hà", "nội"]]
    assert proper_names("Giá vàng, Vàng SJC") == [["vàng", "sjc"]]
    assert proper_names("thu nhap binh quan") == [] == proper_names("THU NHẬP Ở ĐÀ NẴNG")
    assert analyse_question("Ai là Chủ tịch UBND tỉnh Nghệ An?").names == (("chủ",), ("ubnd",), ("nghệ", "an"))


def test_a_lone_first_word_that_cannot_be_vietnamese_is_a_name():
    assert proper_names("Lindisfarne được phân loại là thể loại âm nhạc gì?") == [["lindisfarne"]]
    assert proper_names("IPCC là gì?") == [["ipcc"]]
    assert proper_names("Huế có gì?") == [] == proper_names("Nghiêng về đâu?") == proper_names("Khuya rồi à?")
    assert proper_names("Nhữg gì?") == []  # marked: Vietnamese, misspelt


def test_numbers_say_what_they_count_and_how_many_asks_for_it():
    passage = analyse("Lãnh đạo 03 chương trình, 04 kế hoạch, 11 đề án.")
    assert {count(["chuong", "trinh"]), count(["ke", "hoach"]), count(["de", "an"]), count(["de"])} <= set(passage)
    for question in ["Có bao nhiêu đề án?", "co may de an", "Có mấy đề án?"]:
        asked = dict(analyse_question(question).terms)
        assert {count(["de"]), count(["de", "an"])} <= set(asked) and count(["ke", "hoach"]) not in asked
    assert not [t for t, _ in analyse_question("Đề án là gì?").terms if terms.kind(t) == terms.COUNT]


def test_the_number_of_something_asks_for_a_count_of_it():
    for question in ["số đảng viên mới được kết nạp", "Tổng số đảng viên là bao nhiêu?", "so luong dang vien"]:
        assert {count(["dang"]), count(["dang", "vien"])} <= set(dict(analyse_question(question).terms)), question
    for question in ["Bão số 3 gây thiệt hại gì?", "Một số đảng viên làm gì?"]:
        assert not [t for t, _ in analyse_question(question).terms if terms.kind(t) == terms.COUNT], question


def test_a_question_knows_its_first_syllable_whatever_its_form():
    assert analyse_question("Người Kenya chạy nhanh nhất?").opening == "người"
    assert analyse_question("  «TRƯỚC Manning, ai?").opening == "trước"
    assert analyse_question("??").opening == ""


def test_a_short_text_that_asks_nothing_is_a_keyword_query():
    assert analyse_question("giá vàng").query == (("gia", "vang"),)
    assert analyse_question("khách sạn, nhà hàng").query == (("khach", "san"), ("nha", "hang"))
    assert analyse_question("máy lọc không khí").query == (("may", "loc", "khong", "khi"),)  # "không" as a word


def test_a_question_is_no_keyword_query():
    for question in [
        "Lê Văn Hiệu giữ chức vụ gì?",
        "Chí Linh thuộc tỉnh nào",
        "cải cách hành chính?",
        "Chí Linh có phát triển không",
        "chủ tịch ủy ban nhân dân thành phố Chí Linh năm nay",
    ]:
        assert analyse_question(question).query == (), question
    words = "một hai ba bốn năm sáu bảy tám chín mười mươi trăm nghìn vạn triệu tỷ".split()
    assert sum(map(len, analyse_question(" ".join(words[:KEYWORD_SYLLABLES])).query)) == KEYWORD_SYLLABLES
    assert analyse_question(" ".join(words[: KEYWORD_SYLLABLES + 1])).query == ()


def test_a_question_typed_without_marks_reads_its_short_forms():
    assert (
        analyse_question("hdnd tinh").keywords
        == analyse_question("HĐND tỉnh").keywords
        == ("hoi", "dong", "nhan", "dan", "tinh")
    )
    assert terms.folded("hoi") in dict(analyse_question("hdnd tinh").terms)
