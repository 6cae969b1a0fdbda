"""A sharded collection through every index command (verify, optimize, list, info), and served as it changes."""

import json
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sharded_corpus import questions, same_answers, write_documents

from qa import collection, index, shards, store
from qa.cli import main
from qa.live import LiveEngine
from qa.search import Engine
from qa.server import create_app

WEATHER = {"id": "thoi-tiet", "title": "Thời tiết", "text": "Hà Nội hôm nay trời nắng, nhiệt độ cao nhất 35 độ C."}
ASKED = "nhiệt độ Hà Nội hôm nay"


def qa(*args: str):
    return CliRunner().invoke(main, list(args))


def sharded_engine(directory: Path) -> Engine:
    return Engine(shards.ShardedIndex(shards.LocalShards(directory)))


def segment_file(folder: Path, name: str) -> Path:
    """The path of a file of the first segment of the collection in folder."""
    manifest = store.read_manifest(folder)
    return folder / manifest["segments"][0]["files"][name]["file"]


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> list[Path]:
    return write_documents(tmp_path_factory.mktemp("documents"))


@pytest.fixture(scope="module")
def changed(documents, tmp_path_factory) -> tuple[Path, Path]:
    """One collection and three shards of the same documents, after the same add and remove (so with several
    segments and deleted documents)."""
    article, pages, paragraphs = documents
    single, sharded = tmp_path_factory.mktemp("single"), tmp_path_factory.mktemp("sharded")
    index.build([article, pages], single)
    shards.build([article, pages], sharded, 3)
    for directory in (single, sharded):
        assert qa("index", "add", str(paragraphs), "--index", str(directory)).exit_code == 0
        assert qa("index", "remove", "pho-bo", "para-3", "--index", str(directory)).exit_code == 0
    return single, sharded


@pytest.fixture
def sharded(documents, tmp_path) -> Path:
    """Three shards of the article and the test pages, each holding documents."""
    out = tmp_path / "sharded"
    shards.build(documents[:2], out, 3)
    assert all(store.load(d).stats["documents"] for d in shards.shard_dirs(out))
    return out


def test_verify_checks_every_shard(changed):
    _, sharded = changed
    result = qa("index", "verify", "--index", str(sharded))
    assert result.exit_code == 0, result.output
    documents = sum(store.read_manifest(d)["documents"] for d in shards.shard_dirs(sharded))
    segments = sum(len(store.read_manifest(d)["segments"]) for d in shards.shard_dirs(sharded))
    assert f"in {segments} segment(s) of 3 shards verified, {documents} documents" in result.output


def test_verify_names_each_damaged_file_with_its_shard(sharded):
    damaged = segment_file(sharded / "shard-001", "texts.bin")
    with open(damaged, "r+b") as handle:
        handle.write(b"X")
    missing = segment_file(sharded / "shard-002", "tf.npy")
    missing.unlink()
    result = qa("index", "verify", "--index", str(sharded))
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert any(line.startswith("qa: shard-001: ") and damaged.name in line and "damaged" in line for line in lines)
    assert any(line.startswith("qa: shard-002: ") and missing.name in line and "missing" in line for line in lines)
    assert not any(line.startswith("qa: shard-000") for line in lines)
    # The advice is to build the sharded collection again, never one shard alone (it would hold every document).
    assert all(f"--shards 3 --out {sharded}" in line for line in lines), result.output


def test_verify_checks_the_list_of_shards(sharded):
    listing = sharded / shards.SHARDS
    listing.write_text(json.dumps({"format": shards.FORMAT, "shards": ["shard-000", "shard-001"]}), encoding="utf-8")
    fewer = qa("index", "verify", "--index", str(sharded))
    assert fewer.exit_code == 2
    assert "hashes to another of the 2 shards" in fewer.output and "Traceback" not in fewer.output
    listing.write_text("{", encoding="utf-8")
    for command in ("verify", "optimize", "list", "info"):
        unreadable = qa("index", command, "--index", str(sharded))
        assert unreadable.exit_code == 2, command
        assert unreadable.output.startswith(f"qa: {listing} cannot be read"), command


def test_optimize_merges_each_shards_segments(changed, tmp_path):
    single, sharded = (shutil.copytree(d, tmp_path / d.name) for d in changed)
    assert any(len(store.read_manifest(d)["segments"]) > 1 for d in shards.shard_dirs(sharded))
    result = qa("index", "optimize", "--index", str(sharded))
    assert result.exit_code == 0, result.output
    assert "into one per shard" in result.output
    for folder in shards.shard_dirs(sharded):
        merged = store.load(folder)
        assert len(merged.segments) == 1 and not merged.deleted.any()
    collection.optimize(single)
    one, many = Engine(store.load(single)), sharded_engine(sharded)
    for question in questions(60):
        same_answers(many.ask(question).to_dict(), one.ask(question).to_dict())
    again = qa("index", "optimize", "--index", str(sharded))
    assert again.exit_code == 0 and "is one segment per shard already" in again.output


def test_list_lists_every_document_as_one_collection_does(changed):
    single, sharded = changed
    listed = [qa("index", "list", "--index", str(d), "--json") for d in (single, sharded)]
    assert all(r.exit_code == 0 for r in listed), [r.output for r in listed]
    one, many = (sorted(json.loads(r.output), key=lambda d: d["id"]) for r in listed)
    assert many == one and "pho-bo" not in {d["id"] for d in many}
    lines = [qa("index", "list", "--index", str(d)).output.splitlines() for d in (single, sharded)]
    assert sorted(lines[1]) == sorted(lines[0]) and len(lines[1]) == len(one)


def test_info_gives_the_whole_and_each_shard(changed):
    single, sharded = changed
    one = json.loads(qa("index", "info", "--index", str(single), "--json").output)
    result = qa("index", "info", "--index", str(sharded), "--json")
    assert result.exit_code == 0, result.output
    whole = json.loads(result.output)
    for key in ("documents", "passages", "terms", "deleted_documents", "format", "analyser"):
        assert whole[key] == one[key], key
    assert whole["deleted_documents"] == 2 and whole["directory"] == str(sharded.resolve())
    each = whole["shards"]
    assert [s["name"] for s in each] == ["shard-000", "shard-001", "shard-002"]
    for key in ("documents", "passages", "segments", "deleted_documents", "bytes"):
        assert whole[key] == sum(s[key] for s in each), key
    assert whole["terms"] <= sum(s["terms"] for s in each)
    text = qa("index", "info", "--index", str(sharded)).output.splitlines()
    assert f"documents: {whole['documents']}" in text and "shards: 3" in text
    assert any(line.startswith(f"  shard-001: {each[1]['documents']} documents") for line in text)


def test_a_sharded_server_follows_a_change_to_any_shard_after_the_check_interval(tmp_path):
    sharded, source = tmp_path / "sharded", tmp_path / "weather.jsonl"
    shards.build([index.default_corpus()], sharded, 3)
    source.write_text(json.dumps(WEATHER, ensure_ascii=False) + "\n", encoding="utf-8")
    now = [0.0]
    live = LiveEngine(sharded_engine(sharded), check_seconds=1.0, clock=lambda: now[0])
    first = live.stats["version"]
    before = live.engine().index.shards.shards
    shards.add([source], sharded)
    now[0] = 0.5
    assert live.stats["version"] == first and not live.engine().ask(ASKED).found  # not looked at yet
    now[0] = 1.1
    answer = live.engine().ask(ASKED)
    assert answer.found and answer.answers[0].doc_id == "thoi-tiet"
    assert live.stats["version"] != first and live.stats["documents"] == 2
    after = live.engine().index.shards.shards
    changed_shard = shards.shard_of("thoi-tiet", 3)
    assert [a is b for a, b in zip(after, before)] == [n != changed_shard for n in range(3)]  # the others kept
    shards.remove(["thoi-tiet"], sharded)
    now[0] = 2.2
    assert not live.engine().ask(ASKED).found and live.stats["documents"] == 1


def test_the_http_api_serves_a_sharded_collection_changed_by_the_cli(tmp_path):
    sharded, source = tmp_path / "sharded", tmp_path / "weather.jsonl"
    shards.build([index.default_corpus()], sharded, 2)
    source.write_text(json.dumps(WEATHER, ensure_ascii=False) + "\n", encoding="utf-8")
    client = create_app(sharded_engine(sharded), ()).test_client()

    def found() -> bool:
        return client.get("/api/ask", query_string={"q": ASKED}).get_json()["found"]

    def waited_for(wanted: bool) -> bool:
        """Whether the answer turned to wanted within a few check intervals."""
        deadline = time.monotonic() + 10
        while found() != wanted and time.monotonic() < deadline:
            time.sleep(0.1)
        return found() == wanted

    first = client.get("/healthz").get_json()
    assert not found() and first["documents"] == 1 and first["version"]
    assert qa("index", "add", str(source), "--index", str(sharded)).exit_code == 0
    assert waited_for(True)
    health = client.get("/healthz").get_json()
    assert health["documents"] == 2 and health["version"] != first["version"]
    assert [s["name"] for s in health["shards"]] == ["shard-000", "shard-001"]
    assert qa("index", "remove", "thoi-tiet", "--index", str(sharded)).exit_code == 0
    assert waited_for(False)
    assert [d["id"] for d in client.get("/api/documents").get_json()["documents"]] == [
        next(iter(index.default_corpus().glob("*.txt"))).stem
    ]  # the documents API lists what the server follows


def test_a_shard_file_damaged_under_the_server_is_a_503(sharded):
    client = create_app(sharded_engine(sharded), ()).test_client()
    assert client.get("/api/ask", query_string={"q": "Chí Linh"}).status_code == 200
    damaged = segment_file(sharded / "shard-001", "texts.bin")
    with open(damaged, "r+b") as handle:
        handle.truncate(3)
    refused = client.get("/api/ask", query_string={"q": "Chí Linh"})
    assert refused.status_code == 503 and refused.get_json()["error"]["code"] == "index_unavailable"
    message = refused.get_json()["error"]["message"]
    assert f"shard-001/{damaged.name}" in message and "--shards 3" in message
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["status"] == "index_unavailable"
