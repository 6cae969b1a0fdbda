"""A served collection that changes: the documents API (of one collection and of a sharded one), the switch to a new
version, filters, damage under it."""

import io
import json
from pathlib import Path

import pytest

from qa import collection, shards, store
from qa.corpus import ID_RULE
from qa.live import LiveEngine
from qa.search import Engine
from qa.server import create_app

TOKEN = "s3cret-token-for-the-tests"
WEATHER = {
    "id": "thoi-tiet",
    "title": "Thời tiết Hà Nội",
    "text": "Hà Nội hôm nay trời nắng, nhiệt độ cao nhất 35 độ C.",
    "date": "2023-06-01",
    "url": "https://example.vn/thoi-tiet",
}


def first_document(folder: Path) -> Path:
    """A source of one document, "dang-vien"."""
    source = folder / "first.jsonl"
    source.write_text(
        json.dumps(
            {
                "id": "dang-vien",
                "title": "Đảng bộ",
                "date": "2023-05-16",
                "text": "Đảng bộ thành phố kết nạp 640 đảng viên mới trong năm.",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    return source


def loaded(folder: Path) -> Engine:
    """The engine qa serve answers a folder with: one collection, or a sharded one's shards in this process."""
    return Engine(shards.ShardedIndex(shards.LocalShards(folder)) if shards.is_sharded(folder) else store.load(folder))


def manifests(folder: Path) -> list[bytes]:
    """Every manifest of a collection (a sharded one's: its list of shards and each shard's): what a change rewrites."""
    return [path.read_bytes() for path in sorted(folder.rglob("*.json"))]


@pytest.fixture
def living(tmp_path) -> Path:
    out = tmp_path / "idx"
    collection.add([first_document(tmp_path)], out)
    return out


@pytest.fixture(params=["one collection", "3 shards"])
def changing(request, tmp_path) -> Path:
    """A collection the documents API changes, holding "dang-vien": one collection, or one of 3 shards (two of them
    empty)."""
    out = tmp_path / "idx"
    if request.param == "3 shards":
        shards.build([first_document(tmp_path)], out, 3)
    else:
        collection.add([first_document(tmp_path)], out)
    return out


@pytest.fixture
def client(changing):
    return create_app(loaded(changing), (), admin_token=TOKEN).test_client()


@pytest.fixture
def one_client(living):
    """A client of one collection: filters and segment files are not a sharded one's."""
    return create_app(Engine(store.load(living)), (), admin_token=TOKEN).test_client()


def auth(token: str = TOKEN) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_document_posted_is_answered_at_once_with_its_url_and_date(client):
    before = client.get("/api/ask", query_string={"q": "nhiệt độ Hà Nội hôm nay"}).get_json()
    assert not before["found"]
    added = client.post("/api/documents", json=WEATHER, headers=auth())
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["documents"] == [{"id": "thoi-tiet", "passages": 1}]
    answer = client.get("/api/ask", query_string={"q": "nhiệt độ Hà Nội hôm nay"}).get_json()
    assert answer["found"] and answer["answers"][0]["doc_id"] == "thoi-tiet"
    assert answer["answers"][0]["url"] == WEATHER["url"] and answer["answers"][0]["date"] == "2023-06-01"
    health = client.get("/healthz").get_json()
    assert health["documents"] == 2 and health["version"] == added.get_json()["version"]


def test_the_json_api_writes_vietnamese_as_it_is(client):
    body = client.get("/api/ask", query_string={"q": "đảng viên mới"}).get_data()
    assert "Đảng bộ".encode() in body and b"\\u" not in body


def test_documents_are_listed_read_and_removed(client):
    client.post("/api/documents", json=WEATHER, headers=auth())
    pages = [client.get("/api/documents", query_string={"limit": 1, "offset": n}).get_json() for n in (0, 1)]
    assert [p["total"] for p in pages] == [2, 2] and [len(p["documents"]) for p in pages] == [1, 1]
    assert {p["documents"][0]["id"] for p in pages} == {"dang-vien", "thoi-tiet"}
    assert all(set(p["documents"][0]) == {"id", "title", "date", "url", "passages"} for p in pages)
    one = client.get("/api/documents/thoi-tiet").get_json()
    assert one["title"] == WEATHER["title"] and one["passages"][0]["text"].startswith("Hà Nội hôm nay")
    assert client.delete("/api/documents/thoi-tiet", headers=auth()).status_code == 204
    assert client.get("/api/documents/thoi-tiet").status_code == 404
    assert not client.get("/api/ask", query_string={"q": "nhiệt độ Hà Nội hôm nay"}).get_json()["found"]
    gone = client.delete("/api/documents/thoi-tiet", headers=auth())
    assert gone.status_code == 404 and gone.get_json()["error"]["code"] == "no_such_document"
    # Worded as GET says it: no server folder, no command line to run there.
    assert gone.get_json()["error"] == client.get("/api/documents/thoi-tiet").get_json()["error"]


def test_a_file_is_uploaded_and_its_kind_and_size_are_checked(client):
    page = (
        "<html><head><title>Giá xăng</title></head><body><article><p>Giá xăng RON 95 tăng thêm 500 đồng mỗi "
        "lít từ chiều nay, theo liên Bộ Công Thương và Tài chính.</p></article></body></html>"
    )
    sent = client.post(
        "/api/documents",
        headers=auth(),
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(page.encode()), "../../gia-xang.html")},
    )
    assert sent.status_code == 201 and sent.get_json()["added"] == ["gia-xang"]
    odd = client.post(
        "/api/documents",
        headers=auth(),
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"MZ\x00\x01"), "virus.exe")},
    )
    assert odd.status_code == 415
    for name in ("tin\x00.txt", "tin\x07.txt"):  # a name no file can have: refused, never a 500
        nul = client.post(
            "/api/documents",
            headers=auth(),
            content_type="multipart/form-data",
            data={"file": (io.BytesIO(b"Tin\n\nMot doan van."), name)},
        )
        assert nul.status_code == 400 and nul.get_json()["error"]["code"] == "bad_document"
    big = client.post(
        "/api/documents",
        headers=auth(),
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"a " * (3 << 20)), "big.txt")},
    )
    assert big.status_code == 413 and big.get_json()["error"]["code"] == "request_too_large"


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"title": "", "text": "Một bài."}, "title"),
        ({"title": "Bài", "text": 5}, "text"),
        ({"title": "Bài", "text": "Một bài có nội dung.", "date": "16/05/2023"}, "date"),
        ({"title": "Bài", "text": "Một bài có nội dung.", "url": ["x"]}, "url"),
        ({"title": "Bài", "text": "Một bài có nội dung.", "date": "2024-02-30"}, "date"),
        ({"title": "Bài", "text": "Một bài có nội dung.", "date": "2024-05-16T25:00"}, "date"),
        ({"title": "Bài", "text": "Một bài có nội dung.", "url": "javascript:alert(1)"}, "url"),
        ({"title": "Bài", "text": "Một bài có nội dung.", "url": "example.vn/bai"}, "url"),
        ({"id": "\ud800", "title": "Bài", "text": "Một bài có nội dung."}, "id"),
        ({"title": "Bài \udfff", "text": "Một bài có nội dung."}, "title"),
        ({"title": "Bài", "text": "Một bài \ud800 có nội dung."}, "text"),
        ({"id": "a/../b", "title": "Bài", "text": "Một bài có nội dung."}, "id"),
        ({"id": "tin\x07", "title": "Bài", "text": "Một bài có nội dung."}, "id"),
        ({"title": "!!!", "text": "Một bài có nội dung."}, "id"),  # no id to make: "???" would replace it
    ],
)
def test_a_bad_document_is_refused_and_changes_nothing(client, changing, body, problem):
    before = manifests(changing)
    # As most clients send JSON, with \u escapes: a lone surrogate can be sent that way only.
    refused = client.post("/api/documents", data=json.dumps(body), content_type="application/json", headers=auth())
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "bad_document"
    assert problem in refused.get_json()["error"]["message"]
    assert manifests(changing) == before


def test_an_upload_with_a_bad_line_or_a_repeated_id_adds_nothing(client, changing):
    before = manifests(changing)
    lines = [json.dumps({"id": "a", "text": "Hà Nội hôm nay trời nắng."}), json.dumps({"id": "a", "text": "Mưa."})]
    refused = client.post(
        "/api/documents",
        headers=auth(),
        content_type="multipart/form-data",
        data={"file": (io.BytesIO("\n".join(lines).encode()), "two.jsonl")},
    )
    message = refused.get_json()["error"]["message"]
    assert refused.status_code == 400 and "two.jsonl:2: duplicate id 'a'" in message
    assert "qa-upload" not in message and "/tmp" not in message  # the server's folders are its own business
    latin = client.post(
        "/api/documents",
        headers=auth(),
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(bytes(range(0, 32)) * 10), "binary.txt")},
    )
    assert latin.status_code == 400
    broken = client.post(  # a UTF-16 byte order mark, then a lone surrogate: refused as text, never a 500
        "/api/documents",
        headers=auth(),
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"\xff\xfe\x00\xd8bad"), "broken.txt")},
    )
    assert broken.status_code == 400 and broken.get_json()["error"]["code"] == "bad_document"
    for bad_id in ("a/../b", "tin\x07", "a//b"):  # ids in a file are held to the rule posted ones are
        line = json.dumps({"id": bad_id, "title": "Bài", "text": "Một bài có nội dung."})
        unreachable = client.post(
            "/api/documents",
            headers=auth(),
            content_type="multipart/form-data",
            data={"file": (io.BytesIO(line.encode()), "ids.jsonl")},
        )
        assert (
            unreachable.status_code == 400 and "ids.jsonl:1: " + ID_RULE in unreachable.get_json()["error"]["message"]
        )
    # A good document and one with no text: of 3 shards, "tot" goes to shard 0 and "rong" to shard 2, and neither
    # is added (the shard of "tot" is not written before the other is read).
    lines = [json.dumps({"id": "tot", "text": "Hà Nội hôm nay trời nắng."}), json.dumps({"id": "rong", "text": " "})]
    partly = client.post(
        "/api/documents",
        headers=auth(),
        content_type="multipart/form-data",
        data={"file": (io.BytesIO("\n".join(lines).encode()), "partly.jsonl")},
    )
    assert partly.status_code == 400 and "no article text" in partly.get_json()["error"]["message"]
    assert [d["id"] for d in client.get("/api/documents").get_json()["documents"]] == ["dang-vien"]
    assert manifests(changing) == before


def test_writes_need_the_token_and_are_off_without_one(changing):
    on = create_app(loaded(changing), (), admin_token=TOKEN).test_client()
    for headers in ({}, auth("wrong-token-of-the-same-size!"), {"Authorization": "Basic abc"}):
        refused = on.post("/api/documents", json=WEATHER, headers=headers)
        assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "unauthorized"
    assert on.delete("/api/documents/dang-vien").status_code == 401
    off = create_app(loaded(changing), ()).test_client()
    refused = off.post("/api/documents", json=WEATHER, headers=auth())
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "admin_disabled"
    assert off.get("/api/documents").get_json()["admin"] is False
    built_in = create_app(loaded(changing), (), admin_token=TOKEN, writable=False).test_client()
    assert built_in.delete("/api/documents/dang-vien", headers=auth()).status_code == 403
    assert [d["id"] for d in on.get("/api/documents").get_json()["documents"]] == ["dang-vien"]  # nothing changed


def test_a_write_to_a_damaged_collection_is_a_503_not_a_500(client, changing):
    for catalogue in changing.rglob("*.documents.json.*"):  # every segment's list of documents, which a change reads
        catalogue.write_bytes(b"{}")
    for refused in (
        client.delete("/api/documents/dang-vien", headers=auth()),
        client.post("/api/documents", json=WEATHER, headers=auth()),
    ):
        assert refused.status_code == 503 and refused.get_json()["error"]["code"] == "index_unavailable"
        assert "documents" in refused.get_json()["error"]["message"]


def test_filters_in_a_get_and_a_post(one_client):
    client = one_client
    client.post("/api/documents", json=WEATHER, headers=auth())
    asked = client.get("/api/ask", query_string={"q": "Hà Nội", "since": "2023-06-01"}).get_json()
    assert {a["doc_id"] for a in asked["answers"]} == {"thoi-tiet"}
    none = client.post("/api/ask", json={"question": "Hà Nội", "filters": {"until": "2023-05-31"}}).get_json()
    assert "thoi-tiet" not in {a["doc_id"] for a in none["answers"]}
    only = client.post("/api/ask", json={"question": "đảng viên", "filters": {"doc_id": "thoi-tiet"}}).get_json()
    assert {a["doc_id"] for a in only["answers"]} <= {"thoi-tiet"}
    for bad in ({"since": "yesterday"}, {"until": "2023-02-30"}, {"other": 1}, "2023", {"doc_id": "thoi-tiet-typo"}):
        refused = client.post("/api/ask", json={"question": "Hà Nội", "filters": bad})
        assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "bad_filter"
    for query in ({"since": "01-06-2023"}, {"doc_id": "no-such-id"}):
        refused = client.get("/api/ask", query_string={"q": "Hà Nội", **query})
        assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "bad_filter"
    assert "no-such-id" in refused.get_json()["error"]["message"]
    # A form's empty fields limit nothing, all three alike.
    blank = client.get("/api/ask", query_string={"q": "Hà Nội", "since": "", "until": " ", "doc_id": ""}).get_json()
    assert blank["answers"] == client.get("/api/ask", query_string={"q": "Hà Nội"}).get_json()["answers"]


def test_a_change_made_elsewhere_is_served_after_the_check_interval(living, tmp_path):
    now = [0.0]
    live = LiveEngine(Engine(store.load(living)), check_seconds=1.0, clock=lambda: now[0])
    first = live.engine().index.version
    source = tmp_path / "w.jsonl"
    source.write_text(json.dumps(WEATHER, ensure_ascii=False) + "\n", encoding="utf-8")
    collection.add([source], living)
    now[0] = 0.5
    assert live.engine().index.version == first  # not looked at yet
    now[0] = 1.1
    assert live.engine().index.version != first and live.stats["documents"] == 2


def test_a_file_damaged_under_the_server_is_a_503_and_said_by_healthz(one_client, living):
    client = one_client
    manifest = json.loads((living / store.MANIFEST).read_text())
    path = living / manifest["segments"][0]["files"]["texts.bin"]["file"]
    with open(path, "r+b") as handle:
        handle.truncate(3)
    refused = client.get("/api/ask", query_string={"q": "đảng viên"})
    assert refused.status_code == 503 and refused.get_json()["error"]["code"] == "index_unavailable"
    assert "texts.bin" in refused.get_json()["error"]["message"]
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["status"] == "index_unavailable"


def test_a_sharded_collection_has_the_documents_page_and_each_document_goes_to_its_shard(tmp_path):
    out = tmp_path / "sharded"
    shards.build([first_document(tmp_path)], out, 3)
    client = create_app(loaded(out), (), admin_token=TOKEN).test_client()
    assert "Xem các tài liệu" in client.get("/").get_data(as_text=True)
    assert client.get("/documents").status_code == 200
    assert client.post("/api/documents", json=WEATHER, headers=auth()).status_code == 201
    held = [[d["id"] for d in store.load(folder).catalogue()] for folder in shards.shard_dirs(out)]
    assert held == [["dang-vien"], [], ["thoi-tiet"]]  # as qa index add puts them: by the id's hash
    assert held[shards.shard_of("thoi-tiet", 3)] == ["thoi-tiet"] and shards.verify(out) == []
    one = client.get("/api/documents/thoi-tiet").get_json()
    assert one["passages"][0]["text"].startswith("Hà Nội hôm nay") and one["url"] == WEATHER["url"]
    assert client.delete("/api/documents/dang-vien", headers=auth()).status_code == 204
    assert [[d["id"] for d in store.load(folder).catalogue()] for folder in shards.shard_dirs(out)] == [
        [],
        [],
        ["thoi-tiet"],
    ]
    assert client.get("/healthz").get_json()["documents"] == 1
