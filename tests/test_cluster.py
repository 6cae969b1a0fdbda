"""A sharded collection built with Ray tasks and served by Ray Serve on a real local cluster of two nodes: the same
answers as one machine, no failed request when a shard replica dies under load, a 503 when a shard has none."""

import http.client
import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from ray import serve  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402
from sharded_corpus import questions, same_answers, write_documents  # noqa: E402

from qa import cluster, shards, store  # noqa: E402
from qa.search import Engine  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]  # Ray's own pydantic ones

SHARD_COUNT, REPLICAS, CLIENTS = 2, 2, 16


@pytest.fixture(scope="module")
def ray_cluster():
    """A head and a worker node on this machine, one CPU each; everything shut down after the module."""
    local = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        local.add_node(num_cpus=1)
        ray.init(address=local.address, log_to_driver=False)
        yield local
    finally:
        if ray.is_initialized():
            serve.shutdown()
            ray.shutdown()
        local.shutdown()


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> list[Path]:
    return write_documents(tmp_path_factory.mktemp("documents"))


@pytest.fixture(scope="module")
def built(ray_cluster, documents, tmp_path_factory) -> tuple[Path, Path]:
    """The documents as one collection (built here) and as shards built by Ray tasks."""
    single, sharded = tmp_path_factory.mktemp("single"), tmp_path_factory.mktemp("sharded")
    from qa import index

    index.build(documents, single)
    done = []
    report = cluster.build(
        documents,
        sharded,
        SHARD_COUNT,
        ray_cluster.address,
        progress=lambda finished, total: done.append((finished, total)),
    )
    assert done[-1] == (SHARD_COUNT, SHARD_COUNT)
    assert report.passages == store.load(single).postings.n_live
    return single, sharded


@pytest.fixture(scope="module")
def served(ray_cluster, built) -> int:
    """The port of the sharded collection served by Ray Serve, REPLICAS replicas per shard."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cluster.start(built[1], ray_cluster.address, REPLICAS, port=port)
    wait_until(lambda: request(port, "GET", "/healthz")[0] == 200)
    return port


def request(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, dict | str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, data, {"Content-Type": "application/json"} if data else {})
        response = connection.getresponse()
        text = response.read().decode("utf-8")
        is_json = response.getheader("Content-Type", "").startswith("application/json")
        return response.status, json.loads(text) if is_json else text
    finally:
        connection.close()


def wait_until(condition, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def replicas_of(shard: str) -> list:
    """The live replica actors of a shard's deployment."""
    named = ray.util.list_named_actors(all_namespaces=True)
    return [
        ray.get_actor(a["name"], namespace=a["namespace"])
        for a in named
        if a["name"].startswith(f"SERVE_REPLICA::{cluster.APPLICATION}#{shard}#")
    ]


def test_distributed_build_equals_a_local_build(built, documents, tmp_path):
    _, sharded = built
    local = tmp_path / "local"
    shards.build(documents, local, SHARD_COUNT)
    for remote_dir, local_dir in zip(shards.shard_dirs(sharded), shards.shard_dirs(local)):
        remote, here = store.load(remote_dir), store.load(local_dir)
        assert remote.documents == here.documents
        for a, b in zip(remote.postings.segments, here.postings.segments):
            assert (a.keys == b.keys).all() and (a.passage == b.passage).all() and (a.tf == b.tf).all()


def test_a_build_task_whose_worker_dies_is_retried(ray_cluster, built, documents, tmp_path):
    out, finished = tmp_path / "rebuilt", {}
    building = threading.Thread(
        target=lambda: finished.update(report=cluster.build(documents, out, SHARD_COUNT, ray_cluster.address))
    )
    building.start()
    killed = kill_a_process_titled("ray::_build_shard")
    building.join(timeout=240)
    assert killed and finished["report"].passages == store.load(built[0]).postings.n_live
    for rebuilt, first in zip(shards.shard_dirs(out), shards.shard_dirs(built[1])):
        assert store.load(rebuilt).documents == store.load(first).documents


def kill_a_process_titled(title: str, seconds: float = 60.0) -> bool:
    """Kill -9 the first process whose command line starts with title (a Ray worker running that task)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if cmdline.read_bytes().startswith(title.encode()):
                    os.kill(int(cmdline.parent.name), signal.SIGKILL)
                    return True
            except OSError:
                continue
        time.sleep(0.01)
    return False


def test_a_serve_config_builds_the_application_from_its_args(built, tmp_path):
    assert isinstance(cluster.app({"index": str(built[1]), "replicas": "2"}), serve.Application)
    with pytest.raises(store.IndexFileError, match="shards.json"):
        cluster.app({"index": str(tmp_path)})


def test_ray_serve_answers_as_one_machine(served, built):
    single = Engine(store.load(built[0]))
    asked = questions()
    assert len(asked) == 200
    for question in asked:
        status, result = request(served, "POST", "/api/ask", {"question": question})
        assert status == 200, result
        same_answers(result, single.ask(question).to_dict())


def test_healthz_lists_each_shards_live_replicas_and_the_page_is_served(served, built):
    status, health = request(served, "GET", "/healthz")
    assert status == 200
    assert health["shards"] == [{"name": f"shard-{n:03d}", "replicas": REPLICAS} for n in range(SHARD_COUNT)]
    assert health["passages"] == store.load(built[0]).postings.n_live
    status, page = request(served, "GET", "/")
    assert status == 200 and "<form" in page
    status, refused = request(served, "POST", "/api/ask", {"question": ""})
    assert status == 400 and refused["error"]["code"] == "bad_question"


def test_a_replica_killed_under_load_fails_no_request(served):
    asked, failures, answered = questions(40), [], []
    until = time.monotonic() + 12

    def client(number: int) -> None:
        while time.monotonic() < until:
            status, result = request(served, "POST", "/api/ask", {"question": asked[number % len(asked)]})
            (answered if status == 200 else failures).append((status, result))
            number += CLIENTS

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    time.sleep(3)
    victim = replicas_of("shard-000")[0]
    ray.kill(victim, no_restart=True)
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(answered) > CLIENTS
    # Serve starts another replica in its place.
    wait_until(lambda: request(served, "GET", "/healthz")[1]["shards"][0]["replicas"] == REPLICAS)


def test_a_shard_with_no_live_replica_gives_503_naming_it(served, built):
    folder = shards.shard_dirs(built[1])[1]
    moved = folder.with_name(folder.name + ".away")
    folder.rename(moved)  # its storage gone: a replica started in place of a dead one cannot load the shard
    try:
        for replica in replicas_of("shard-001"):
            ray.kill(replica, no_restart=True)
        started = time.monotonic()
        status, result = request(served, "POST", "/api/ask", {"question": "Chí Linh thuộc tỉnh nào?"})
        assert status == 503
        assert result["error"]["code"] == "shard_unavailable"
        assert "shard-001" in result["error"]["message"]
        assert time.monotonic() - started < 3 * cluster.SHARD_TIMEOUT
        # /healthz says what Serve's controller knows, which learns of the deaths within its health checks.
        wait_until(lambda: request(served, "GET", "/healthz")[1]["shards"][1]["replicas"] < REPLICAS)
    finally:
        moved.rename(folder)
