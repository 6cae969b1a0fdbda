"""Odd sources: line endings, text without punctuation, long first lines, bad JSON lines, duplicate ids, files
that are not regular or too large. Each is read or refused by name, and never stops a build."""

import json
import os
import threading
from pathlib import Path

from click.testing import CliRunner

from qa import corpus, index, store
from qa.cli import main
from qa.corpus import Document, Skipped, passages, read_documents


def split(found: list) -> tuple[list[Document], dict[str, str]]:
    return [d for d in found if isinstance(d, Document)], {s.source: s.reason for s in found if isinstance(s, Skipped)}


def test_cr_lf_and_crlf_line_endings_read_alike(tmp_path):
    lines = ["Tiêu đề bài", "", "Đoạn một kể chuyện ở Hà Nội.", "Đoạn hai kể tiếp ở Huế."]
    read = []
    for name, ending in [("lf.txt", "\n"), ("cr.txt", "\r"), ("crlf.txt", "\r\n")]:
        (tmp_path / name).write_bytes(ending.join(lines).encode())
        [document] = read_documents([tmp_path / name])
        read.append((document.title, document.text))
    assert read[0] == ("Tiêu đề bài", "Đoạn một kể chuyện ở Hà Nội.\n\nĐoạn hai kể tiếp ở Huế.")
    assert read == [read[0]] * 3


def test_text_without_punctuation_is_cut_within_the_cap_between_words(tmp_path):
    words = ["phở", "bò", "Hà", "Nội", "nước", "dùng", "ngọt", "thanh"]
    text = " ".join(words[i % len(words)] + str(i % 7) for i in range(120_000))  # about 1 MB, one line
    (tmp_path / "long.txt").write_text(text, encoding="utf-8")
    [document] = read_documents([tmp_path / "long.txt"])
    found = passages(document)
    assert len(document.title) <= corpus.MAX_TITLE_CHARS and document.title.endswith("…")
    assert all(len(p.text) <= corpus.MAX_PASSAGE_CHARS for p in found)
    assert all(document.text[p.start - 1] == " " and document.text[p.end] == " " for p in found[1:-1])
    assert " ".join(p.text for p in found) == document.text  # every word in one passage


def test_a_long_first_line_is_text_and_gives_a_title_cut_at_a_space():
    line = "Một câu rất dài nói về kinh tế xã hội " * 20
    document = corpus.make_document("d", [line, "Đoạn hai."], "test")
    kept = document.title.removesuffix("…")
    assert len(document.title) <= corpus.MAX_TITLE_CHARS and kept != document.title
    assert line.startswith(kept) and line[len(kept)] == " "  # cut between words
    assert document.text.startswith(line.strip())


def test_bad_jsonl_lines_are_skipped_by_number_and_the_rest_read(tmp_path):
    lines = [
        json.dumps({"id": "a1", "text": "Bài một nói về phở bò."}),
        '{"id": "a2", "text": "Chữ hỏng \\ud800 ở đây."}',
        json.dumps({"id": ["a3"], "text": "Mã là một danh sách."}),
        json.dumps({"id": "a4", "title": {"x": 1}, "text": "Tiêu đề là một đối tượng."}),
        json.dumps({"id": 5, "text": "Mã là một số nguyên."}),
    ]
    (tmp_path / "a.jsonl").write_text("\n".join(lines), encoding="utf-8")
    documents, skipped = split(list(read_documents([tmp_path / "a.jsonl"])))
    assert [d.id for d in documents] == ["a1", "5"]
    assert sorted(source.rsplit(":", 1)[1] for source in skipped) == ["2", "3", "4"]
    assert "lone surrogate" in skipped[f"{tmp_path / 'a.jsonl'}:2"]


def test_duplicate_ids_are_refused_by_name_within_and_across_sources(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    record = json.dumps({"id": "dup", "text": "Một bài có mã trùng."})
    (tmp_path / "a" / "x.jsonl").write_text(record + "\n" + record + "\n", encoding="utf-8")
    (tmp_path / "b" / "y.jsonl").write_text(record + "\n", encoding="utf-8")
    for folder in "ab":
        (tmp_path / folder / "tin.txt").write_text("Tiêu đề\n\nMột đoạn văn có nội dung thật.", encoding="utf-8")
    documents, skipped = split(list(read_documents([tmp_path])))
    # Two tin.txt in two folders are two documents, named by their path in the folder read.
    assert sorted(d.id for d in documents) == ["a/tin", "b/tin", "dup"]
    first = f"duplicate id 'dup' (first read from {tmp_path}/a/x.jsonl:1)"
    assert skipped == {f"{tmp_path / 'a' / 'x.jsonl'}:2": first, f"{tmp_path / 'b' / 'y.jsonl'}:1": first}
    _, named_twice = split(list(read_documents([tmp_path / "a" / "tin.txt", tmp_path / "b" / "tin.txt"])))
    assert named_twice == {
        str(tmp_path / "b" / "tin.txt"): f"duplicate id 'tin' (first read from {tmp_path}/a/tin.txt)"
    }


def test_a_build_of_bad_lines_and_duplicates_indexes_the_rest_with_unique_ids(tmp_path):
    record = json.dumps({"id": "dup", "text": "Một bài có mã trùng nói về phở."})
    (tmp_path / "a.jsonl").write_text("\n".join([record, record, '{"id": "s", "text": "\\udfff"}']), encoding="utf-8")
    report = index.build([tmp_path / "a.jsonl"], tmp_path / "index")
    built = store.load(tmp_path / "index")
    ids = [built.passage(n).id for n in range(built.n_passages)]
    assert report.documents == 1 and len(report.skipped) == 2 and len(set(ids)) == len(ids)


def read_in_thread(path: Path) -> list:
    """What read_documents gives for path, read in a thread that a blocking read could not stop the test with."""
    found: list = []
    reader = threading.Thread(target=lambda: found.extend(read_documents([path])), daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), f"reading {path} blocked"
    return found


def test_a_fifo_is_refused_by_name_without_being_opened(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "good.txt").write_text("Tiêu đề\n\nMột đoạn văn có nội dung thật.", encoding="utf-8")
    for source in [tmp_path / "pipe.txt", tmp_path]:
        documents, skipped = split(read_in_thread(source))
        assert skipped == {str(tmp_path / "pipe.txt"): "not a regular file (a FIFO)"}
    assert [d.id for d in documents] == ["good"]


def test_a_device_is_refused_by_name():
    assert read_in_thread(Path("/dev/zero")) == [Skipped("/dev/zero", "not a regular file (a device)")]


def test_a_file_over_the_size_limit_is_refused_by_name_unread(tmp_path):
    (tmp_path / "big.txt").write_text("Tiêu đề\n\n" + "Một đoạn văn. " * 100, encoding="utf-8")
    [skipped] = read_documents([tmp_path / "big.txt"], max_file_size=1000)
    assert skipped.source == str(tmp_path / "big.txt") and skipped.reason.startswith("larger than 1,000 bytes")
    [document] = read_documents([tmp_path / "big.txt"], max_file_size=5000)
    assert isinstance(document, Document)


def test_build_command_names_refused_files_and_takes_a_size_limit(tmp_path):
    (tmp_path / "big.txt").write_bytes(b"Big\n\n" + b"Mot doan van dai. " * 70_000)  # 1.2 MiB
    (tmp_path / "good.txt").write_text("Tiêu đề\n\nMột đoạn văn có nội dung thật.", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(
        main, ["index", "build", str(tmp_path), "--out", str(tmp_path / "i"), "--max-file-size", "1"]
    )
    assert result.exit_code == 0
    assert f"qa: skipped {tmp_path / 'big.txt'}: larger than 1,048,576 bytes" in result.stderr
    result = runner.invoke(
        main, ["index", "build", str(tmp_path / "big.txt"), "--out", str(tmp_path / "i"), "--max-file-size", "0"]
    )
    assert result.exit_code == 2 and "--max-file-size" in result.stderr
