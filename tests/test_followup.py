"""Follow-ups: which questions lean on the earlier ones, and what is asked for them."""

import pytest

from qa.followup import in_context, names_a_person, refers_back, understood

LEANING = [
    "Ông ấy giữ chức vụ gì?",
    "ong ay giu chuc vu gi",
    "Còn năm 2021?",
    "Thế còn thu ngân sách?",
    "thế còn thu ngân sách",
    "Ở đâu?",
    "Khi nào?",
    "Năm đó tỉnh đạt bao nhiêu?",
    "Họ đề xuất gì?",
    "Bà ấy phụ trách lĩnh vực gì ở tỉnh và ở thành phố Chí Linh trong nhiệm kỳ này?",
]
ALONE = [
    "Ai là Bí thư Thành ủy Chí Linh?",
    "Thu nhập bình quân đầu người năm 2022 đạt bao nhiêu?",
    "NASUWT là gì?",
    "Manning đã chơi cho bao nhiêu đội trong khi anh ấy ở trong đội của họ?",
    "con dau dat bao nhieu",
    "Điều gì sau đó được phát hiện do Luther viết?",
    "Dự án này của thành phố Chí Linh được triển khai ở những xã phường nào trong giai đoạn 2020-2025?",
]


@pytest.mark.parametrize("question", LEANING)
def test_questions_that_lean_on_the_earlier_ones(question):
    assert refers_back(question)


@pytest.mark.parametrize("question", ALONE)
def test_questions_that_stand_on_their_own(question):
    assert not refers_back(question)


def test_a_question_that_stands_alone_is_asked_as_typed():
    assert in_context("Ai là Bí thư Thành ủy Chí Linh?", ["Ở đâu?", "Khi nào?"]) == "Ai là Bí thư Thành ủy Chí Linh?"
    assert in_context("Ở đâu?", []) == "Ở đâu?"


def test_a_follow_up_is_asked_with_the_last_question_less_its_pronoun():
    asked = in_context("Ông ấy giữ chức vụ gì?", ["Thu nhập năm 2022?", "Ai phát biểu chỉ đạo tại hội nghị?"])
    assert asked == "giữ chức vụ gì? ai phát biểu chỉ đạo tại hội nghị?"


def test_whom_the_earlier_question_was_answered_with_stands_for_the_pronoun():
    asked = in_context("Ông ấy giữ chức vụ gì?", ["Ai phát biểu chỉ đạo tại hội nghị?"], "Lê Văn Hiệu")
    assert asked == "Lê Văn Hiệu giữ chức vụ gì? ai phát biểu chỉ đạo tại hội nghị?"
    unmarked = in_context("ong ay giu chuc vu gi", ["ai phat bieu"], "Lê Văn Hiệu")
    assert unmarked == "Lê Văn Hiệu giu chuc vu gi ai phat bieu"


@pytest.mark.parametrize(
    "question, expected",
    [("Ông ấy giữ chức vụ gì?", True), ("ong ay o dau", True), ("Manning ... anh ấy ở đâu?", False), ("Ở đâu?", False)],
)
def test_a_persons_pronoun_with_no_name_before_it_names_a_person(question, expected):
    assert names_a_person(question) is expected


def test_the_follow_ups_year_replaces_the_earlier_one():
    assert in_context("Còn năm 2021?", ["Thu nhập năm 2022 đạt bao nhiêu?"]) == "năm 2021? thu nhập năm đạt bao nhiêu?"


def test_a_chain_of_follow_ups_keeps_the_first_questions_subject():
    asked = in_context("Năm nào?", ["Ai đặt tên cho oxi?", "Ở đâu?"])
    assert asked == "Năm nào? ở đâu? ai đặt tên cho oxi?"


def test_a_capital_that_only_opened_the_earlier_question_is_lowered_a_name_is_kept():
    assert in_context("Ông ấy nói gì?", ["Lê Văn Hiệu đề nghị gì?"]) == "nói gì? Lê Văn Hiệu đề nghị gì?"
    assert (
        in_context("Ông ấy nói gì?", ["Bí thư Thành ủy Chí Linh là ai?"]) == "nói gì? bí thư Thành ủy Chí Linh là ai?"
    )


# What is shown (qa ask's "(Hiểu là: …)", the API's "asked", the page): the question as a person reads it.


def test_a_follow_up_is_shown_with_the_person_named_in_place_of_the_pronoun():
    history = ["Ai phát biểu chỉ đạo tại hội nghị?"]
    assert understood("Ông ấy giữ chức vụ gì?", history, "Lê Văn Hiệu") == "Lê Văn Hiệu giữ chức vụ gì?"
    assert understood("Chức vụ của ông ấy là gì?", history, "Lê Văn Hiệu") == "Chức vụ của Lê Văn Hiệu là gì?"
    assert understood("ong ay giu chuc vu gi", ["ai phat bieu"], "Lê Văn Hiệu") == "Lê Văn Hiệu giu chuc vu gi"


def test_a_follow_up_is_shown_with_the_questions_it_goes_on_from_as_typed():
    shown = understood("Còn năm 2021?", ["Ai là Bí thư?", "Thu ngân sách năm 2020 là bao nhiêu?"])
    assert shown == "Còn năm 2021? (tiếp câu hỏi: Thu ngân sách năm 2020 là bao nhiêu?)"
    chained = understood("Năm nào?", ["Thu nhập năm 2022?", "Ai đặt tên cho oxi?", "Ở đâu?"])
    assert chained == "Năm nào? (tiếp câu hỏi: Ai đặt tên cho oxi? → Ở đâu?)"
    # No one named for the pronoun, or a question that leans back even with the person named: the context shown.
    unnamed = understood("Ông ấy giữ chức vụ gì?", ["Thu nhập năm 2022?"])
    assert unnamed == "Ông ấy giữ chức vụ gì? (tiếp câu hỏi: Thu nhập năm 2022?)"
    there = understood("Ông ấy làm gì ở đó?", ["Ai phát biểu tại hội nghị?"], "Lê Văn Hiệu")
    assert there == "Lê Văn Hiệu làm gì ở đó? (tiếp câu hỏi: Ai phát biểu tại hội nghị?)"


def test_a_question_that_stands_alone_is_shown_as_typed():
    assert understood("Ai là Bí thư Thành ủy Chí Linh?", ["Ở đâu?"]) == "Ai là Bí thư Thành ủy Chí Linh?"
    assert understood("Ở đâu?", []) == "Ở đâu?"
