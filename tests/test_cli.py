"""The `qa` command line: output, JSON, exit codes, chat, index build, eval."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.cli import NOT_FOUND, main


@pytest.fixture
def qa(default_index_dir):
    """Run qa in-process on the built-in article's index."""
    runner = CliRunner()

    def run(*args, input=None):
        args = list(args)
        if args[0] in ("ask", "chat") and "--index" not in args:
            args += ["--index", str(default_index_dir)]
        return runner.invoke(main, args, input=input, catch_exceptions=False)

    return run


def test_ask_prints_sentence_first_with_marks_and_source(qa):
    result = qa("ask", "Thu nhập bình quân đầu người năm 2022 là bao nhiêu?")
    assert result.exit_code == 0
    short, first = result.output.splitlines()[:2]  # the answer itself, then the sentence that says it
    assert short == "87 triệu đồng"
    assert first.startswith("1. [Thu nhập bình quân đầu người năm 2022]") and "87 triệu đồng" in first
    assert "Nguồn: Hải Dương: Đảng bộ thành phố đầu tiên sơ kết giữa nhiệm kỳ Đại hội" in result.output


def test_a_passage_under_a_heading_is_shown_indented_under_its_answer(qa):
    result = qa("ask", "Phát biểu chỉ đạo tại hội nghị Lê Văn Hiệu đề nghị gì?", "--top-k", "3")
    lines = result.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("   Đoạn: Tập trung thực hiện 5 nhiệm vụ"))
    under = lines[at + 1 : lines.index("", at)]  # the heading's text, up to the blank line closing the answer
    assert under and all(line.startswith(" " * 9) for line in under)
    assert "Lê Văn Hiệu đề nghị" in " ".join(under).replace("[", "").replace("]", "")


def test_ask_json_is_exactly_the_api_shape(qa):
    result = qa("ask", "ty le ho ngheo", "--json", "--top-k", "2")
    data = json.loads(result.output)
    assert set(data) == {"question", "found", "answers", "took_ms", "asked"}
    assert data["found"] is True and len(data["answers"]) == 2 and "1%" in data["answers"][0]["sentence"]


def test_not_found_exits_1(qa):
    result = qa("ask", "Thời tiết Hà Nội hôm nay thế nào?")
    assert result.exit_code == 1 and result.output.startswith(NOT_FOUND)


def test_the_command_line_and_the_chat_page_say_not_found_alike():
    script = Path(__file__).parent.parent / "web" / "static" / "app.js"
    assert f'"{NOT_FOUND}"' in script.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "args", [["ask", "   "], ["ask", "x" * 1001], ["ask", "Chí Linh", "--top-k", "0"], ["ask"], ["nope"]]
)
def test_bad_usage_exits_2(qa, args):
    result = qa(*args)
    assert result.exit_code == 2


def test_corrupt_index_exits_2_with_a_message(tmp_path, default_index_dir):
    broken = tmp_path / "broken"
    shutil.copytree(default_index_dir, broken)
    (broken / "manifest.json").write_text("{oops")
    result = CliRunner().invoke(main, ["ask", "Chí Linh", "--index", str(broken)])
    assert result.exit_code == 2 and "manifest.json" in result.output and "qa index build" in result.output


def test_chat_answers_one_question_per_piped_line(qa):
    result = qa("chat", "--json", input="ty le ho ngheo\n\n   \nAi là Bí thư Thành ủy Chí Linh?\n")
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [x["question"] for x in lines] == ["ty le ho ngheo", "Ai là Bí thư Thành ủy Chí Linh?"]
    assert "Hoàng Quốc Thưởng" in lines[1]["answers"][0]["text"]


def test_chat_reports_a_refused_line_and_goes_on(qa):
    result = qa("chat", "--json", input="x" * 1200 + "\nty le ho ngheo\n")
    first, second = [json.loads(line) for line in result.output.splitlines()]
    assert "limit" in first["error"] and second["found"] is True


def test_index_build_reports_skipped_files(tmp_path):
    (tmp_path / "good.txt").write_text("Tiêu đề\n\nĐảng bộ thành phố kết nạp 640 đảng viên mới.\n", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\x00\xff" * 100)
    result = CliRunner().invoke(main, ["index", "build", str(tmp_path), "--out", str(tmp_path / "idx")])
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "bad.txt" in result.output
    assert "Indexed 1 documents, 1 passages" in result.output
    asked = CliRunner().invoke(main, ["ask", "kết nạp đảng viên", "--index", str(tmp_path / "idx"), "--json"])
    assert json.loads(asked.output)["answers"][0]["passage_id"] == "good#0"


def test_index_build_with_nothing_to_index_exits_2(tmp_path):
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    result = CliRunner().invoke(main, ["index", "build", str(tmp_path), "--out", str(tmp_path / "idx")])
    assert result.exit_code == 2 and "no passages" in result.output


SQUAD = {
    "data": [
        {
            "title": "Chí Linh",
            "paragraphs": [
                {
                    "context": "Thu nhập bình quân đầu người năm 2022 đạt 87 triệu đồng.",
                    "qas": [
                        {
                            "id": "1",
                            "question": "Thu nhập bình quân năm 2022 là bao nhiêu?",
                            "answers": [{"text": "87 triệu đồng", "answer_start": 42}],
                        }
                    ],
                },
                {
                    "context": "Tỷ lệ hộ nghèo theo chuẩn mới giảm còn 1%.",
                    "qas": [
                        {
                            "id": "2",
                            "question": "Tỷ lệ hộ nghèo còn bao nhiêu?",
                            "answers": [{"text": "1%", "answer_start": 39}],
                        },
                        {
                            "id": "3",
                            "question": "Thu nhập bình quân?",
                            "answers": [{"text": "không có", "answer_start": 0}],
                        },
                    ],
                },
            ],
        }
    ]
}


def test_eval_reports_hits_and_mrr(tmp_path):
    dataset = tmp_path / "squad.json"
    dataset.write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", str(dataset), "--json"])
    report = json.loads(result.output)
    assert report["questions"] == 3
    # The third question's paragraph shares no word with it: never retrieved, no hit, reciprocal rank 0.
    assert report["hit@1"] == pytest.approx(2 / 3) and report["hit@5"] == pytest.approx(2 / 3)
    assert report["mrr@10"] == pytest.approx(2 / 3)
    assert report["answer_in_top1"] == pytest.approx(2 / 3)


def test_eval_refuses_a_file_that_is_not_squad(tmp_path):
    dataset = tmp_path / "x.json"
    dataset.write_text('{"nope": 1}')
    result = CliRunner().invoke(main, ["eval", str(dataset)])
    assert result.exit_code == 2 and "SQuAD" in result.output


@pytest.mark.parametrize(
    "command", [[], ["ask"], ["chat"], ["index", "build"], ["index", "verify"], ["serve"], ["eval"]]
)
def test_help_is_complete(command):
    result = CliRunner().invoke(main, command + ["--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    assert "--help" in result.output


@pytest.mark.slow
def test_installed_qa_command_answers_from_another_directory(tmp_path, default_index_dir):
    qa = Path(sys.executable).with_name("qa")
    assert qa.exists(), "the qa console script is installed beside python"
    result = subprocess.run(
        [str(qa), "ask", "thu nhap binh quan dau nguoi", "--json", "--index", str(default_index_dir)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr
    assert "87 triệu đồng" in json.loads(result.stdout)["answers"][0]["text"]


def test_serve_on_a_busy_port_exits_2_with_a_message(default_index_dir):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--port", str(port), "--index", str(default_index_dir)])
    assert result.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}" in result.output


def test_the_collection_is_index_then_qa_index_then_the_built_in_article(tmp_path, monkeypatch):
    (tmp_path / "tin.txt").write_text("Thời tiết\n\nHà Nội hôm nay trời nắng, nhiệt độ 35 độ C.\n", encoding="utf-8")
    built = CliRunner().invoke(main, ["index", "build", str(tmp_path / "tin.txt"), "--out", str(tmp_path / "mine")])
    assert built.exit_code == 0, built.output
    monkeypatch.setenv("QA_INDEX", str(tmp_path / "mine"))
    asked = CliRunner().invoke(main, ["ask", "nhiệt độ Hà Nội", "--json"])
    assert json.loads(asked.output)["answers"][0]["doc_id"] == "tin"
    monkeypatch.setenv("QA_INDEX", str(tmp_path / "nowhere"))
    assert CliRunner().invoke(main, ["ask", "nhiệt độ Hà Nội"]).exit_code == 2


def test_build_with_sources_needs_a_folder_and_never_writes_the_built_in_article(tmp_path, monkeypatch):
    monkeypatch.delenv("QA_INDEX", raising=False)
    (tmp_path / "tin.txt").write_text("Thời tiết\n\nHà Nội hôm nay trời nắng.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["index", "build", str(tmp_path / "tin.txt")])
    assert result.exit_code == 2 and "--out" in result.output


def test_python_api_asks_in_three_lines(default_index_dir):
    from qa import open_collection

    engine = open_collection(default_index_dir)
    assert "Hoàng Quốc Thưởng" in engine.ask("Ai là Bí thư Thành ủy Chí Linh?").answers[0].sentence


@pytest.mark.slow
def test_python_dash_m_qa_is_the_qa_command(default_index_dir):
    result = subprocess.run(
        [sys.executable, "-m", "qa", "ask", "ty le ho ngheo", "--json", "--index", str(default_index_dir)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and json.loads(result.stdout)["found"] is True


@pytest.mark.slow
@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_logs_on_every_command(tmp_path, where):
    (tmp_path / "tin.txt").write_text("Thời tiết\n\nHà Nội hôm nay trời nắng.\n", encoding="utf-8")
    command = ["index", "build", str(tmp_path / "tin.txt"), "--out", str(tmp_path / "idx")]
    args = ["-v"] + command if where == "before" else command + ["-v"]
    result = subprocess.run([sys.executable, "-m", "qa", *args], capture_output=True, text=True)
    assert result.returncode == 0 and "INFO qa.index: analysing" in result.stderr
    quiet = subprocess.run([sys.executable, "-m", "qa", *command], capture_output=True, text=True)
    assert quiet.returncode == 0 and "INFO" not in quiet.stderr


def test_ask_shows_the_source_date_and_can_be_limited_to_a_period_or_a_document(qa):
    result = qa("ask", "ty le ho ngheo", "--top-k", "1")
    assert "2023-05-16 19:36" in result.output
    assert qa("ask", "ty le ho ngheo", "--since", "2023-05-16", "--until", "2023-05-16").exit_code == 0
    later = qa("ask", "ty le ho ngheo", "--since", "2023-05-17", "--json")
    assert later.exit_code == 1 and json.loads(later.output)["answers"] == []
    other = qa("ask", "ty le ho ngheo", "--doc", "another-document", "--json")
    assert other.exit_code == 2 and "no document 'another-document'" in other.output  # a typo is named, not "not found"
    assert qa("ask", "ty le ho ngheo", "--doc", "chi-linh-so-ket-giua-nhiem-ky-2023-05-16").exit_code == 0
    for bad in (
        ["--since", "16/05/2023"],
        ["--until", "2023-02-30"],
        ["--since", "2024-01-01", "--until", "2023-01-01"],
    ):
        refused = qa("ask", "ty le ho ngheo", *bad)
        assert refused.exit_code == 2 and "qa:" in refused.output


def test_chat_asks_a_follow_up_in_the_context_of_the_earlier_questions(qa):
    result = qa(
        "chat",
        "--json",
        input="Ai phát biểu chỉ đạo tại hội nghị?\nÔng ấy giữ chức vụ gì?\n/moi\nÔng ấy giữ chức vụ gì?\n",
    )
    first, followed, new, alone = [json.loads(line) for line in result.output.splitlines()]
    assert followed["question"] == "Ông ấy giữ chức vụ gì?" and followed["asked"] == "Lê Văn Hiệu giữ chức vụ gì?"
    assert "Lê Văn Hiệu" in followed["answers"][0]["text"]
    assert followed["answers"][0]["short_answer"]["text"] == "Phó Bí thư Thường trực Tỉnh ủy"
    assert new == {"conversation": "new"}
    assert alone["asked"] is None and "Lê Văn Hiệu" not in alone["answers"][0]["text"]


def test_chat_leaves_a_refused_question_out_of_the_conversation(qa):
    result = qa(
        "chat", "--json", input="Ai phát biểu chỉ đạo tại hội nghị?\n" + "x" * 1200 + "\nÔng ấy giữ chức vụ gì?\n"
    )
    followed = json.loads(result.output.splitlines()[-1])
    assert followed["asked"] == "Lê Văn Hiệu giữ chức vụ gì?"


def test_ask_takes_earlier_questions_as_history(qa):
    result = qa(
        "ask",
        "Ông ấy giữ chức vụ gì?",
        "--history",
        "Thu nhập năm 2022?",
        "--history",
        "Ai phát biểu chỉ đạo tại hội nghị?",
    )
    understood, short = result.output.splitlines()[:2]
    assert understood == "(Hiểu là: Lê Văn Hiệu giữ chức vụ gì?)"
    assert short == "Phó Bí thư Thường trực Tỉnh ủy"
    going_on = qa("ask", "Còn năm 2021?", "--history", "Thu nhập bình quân đầu người năm 2022 đạt bao nhiêu?")
    assert going_on.output.splitlines()[0] == (
        "(Hiểu là: Còn năm 2021? (tiếp câu hỏi: Thu nhập bình quân đầu người năm 2022 đạt bao nhiêu?))"
    )
    refused = qa("ask", "Ở đâu?", *["--history", "Chí Linh"] * 6)
    assert refused.exit_code == 2 and "history" in refused.output
