"""A sharded collection served by Ray Serve (one deployment per shard, R replicas each, and an ingress that asks
them all) and built with Ray tasks. Needs the [cluster] extra: only `qa serve --ray` and `qa index build --ray`
import this module."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import ray
from flask import Flask
from ray import serve
from ray.exceptions import ActorUnavailableError, GetTimeoutError, RayActorError
from ray.serve.exceptions import DeploymentUnavailableError, ReplicaUnavailableError
from starlette.requests import Request
from starlette.responses import Response as StarletteResponse
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from . import corpus, shards, store
from .index import BuildReport
from .search import Engine
from .server import EXAMPLES, ApiError, create_app

log = logging.getLogger(__name__)

APPLICATION = "qa"
INGRESS = "ingress"
SHARD_TIMEOUT = 5.0  # seconds a shard may take to answer, its retries included, before the question gets a 503
RETRY_PAUSE = 0.05  # seconds between two tries of a shard whose replica died: Serve routes the next to another
QUIET = {"log_level": "WARNING", "enable_access_log": False}  # a log line per call costs as much as the call
INGRESS_REQUESTS = 64  # questions one ingress replica takes at a time (Serve's default, 5, queues a 16-client load)


class ShardUnavailable(ApiError):
    """No replica of a shard answered in time: the question cannot be ranked over the whole collection."""

    def __init__(self, shard: str):
        super().__init__(
            503,
            "shard_unavailable",
            f"shard {shard} has no live replica to answer; try again "
            f"shortly (GET /healthz lists each shard's live replicas)",
        )
        self.shard = shard


class ShardReplica:
    """A replica of one shard's deployment: the shard loaded memory-mapped from shared storage."""

    def __init__(self, directory: str):
        self.shard = shards.Shard(Path(directory), checksums=True)  # nothing damaged is ever served
        self.shard.warm_up()

    async def ask(self, method: str, *args: Any) -> Any:
        # On the replica's event loop, not in a thread: a shard's answer takes milliseconds, and the hop to a
        # thread cost more than that on a busy machine.
        return getattr(self.shard, method)(*args)


class RayShards:
    """The shards as Serve deployments: every call retried on another replica when one dies, and a
    ShardUnavailable, never a hang, when no replica answers within SHARD_TIMEOUT."""

    def __init__(self, names: list[str], handles: list[serve.handle.DeploymentHandle]):
        self.names, self.handles = names, handles

    def gather(self, method: str, *args: Any) -> list[Any]:
        deadline = time.monotonic() + SHARD_TIMEOUT
        sent = [h.ask.remote(method, *args) for h in self.handles]  # all at once: the shards work side by side
        return [self._result(s, response, method, args, deadline) for s, response in enumerate(sent)]

    def call(self, shard: int, method: str, *args: Any) -> Any:
        deadline = time.monotonic() + SHARD_TIMEOUT
        return self._result(shard, self.handles[shard].ask.remote(method, *args), method, args, deadline)

    def replicas(self) -> dict[str, int]:
        deployments = serve.status().applications[APPLICATION].deployments
        return {
            name: deployments[name].replica_states.get("RUNNING", 0) if name in deployments else 0
            for name in self.names
        }

    def _result(self, shard: int, response, method: str, args: tuple, deadline: float) -> Any:
        while True:
            try:
                return response.result(timeout_s=max(deadline - time.monotonic(), 0.0))
            except (RayActorError, ActorUnavailableError, ReplicaUnavailableError) as error:
                log.warning("a replica of %s died answering (%s): asking another", self.names[shard], error)
            except (TimeoutError, GetTimeoutError, DeploymentUnavailableError):
                response.cancel()
                raise ShardUnavailable(self.names[shard]) from None
            if time.monotonic() >= deadline:
                raise ShardUnavailable(self.names[shard])
            time.sleep(RETRY_PAUSE)
            response = self.handles[shard].ask.remote(method, *args)


class Ingress:
    """The web face of a sharded collection: the same page, /api/ask and /healthz as `qa serve`, each question
    analysed once here, ranked by every shard, its answers built here exactly as on one machine."""

    def __init__(self, names: list[str], handles: list, examples: Sequence[str]):
        # Made in a thread: the constructor runs in the replica's event loop, where waiting on a shard is refused.
        self.app: Flask | None = None
        self.ready = threading.Event()
        threading.Thread(target=self._start, args=(names, handles, examples), daemon=True).start()

    def _start(self, names: list[str], handles: list, examples: Sequence[str]) -> None:
        """Make the engine over the shards, as soon as every shard answers."""
        while True:
            try:
                engine = Engine(shards.ShardedIndex(RayShards(names, handles)))
                engine.warm_up()
                break
            except ShardUnavailable as error:
                log.warning("the ingress waits for its shards: %s", error.message)
        self.app = create_app(engine, examples)
        self.ready.set()

    async def __call__(self, request: Request) -> StarletteResponse:
        body = await request.body()
        # The Flask app runs in a thread: asking blocks on the shards, and the event loop takes other requests.
        status, headers, data = await asyncio.to_thread(
            self._wsgi, request.method, request.url.path, request.url.query, list(request.headers.items()), body
        )
        return StarletteResponse(content=data, status_code=status, headers=headers)

    def _wsgi(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """The Flask app's answer to one request: status, headers and body."""
        if not self.ready.wait(SHARD_TIMEOUT):
            error = {"code": "not_ready", "message": "the service is starting: its shards are not all up yet"}
            return 503, {"Content-Type": "application/json"}, json.dumps({"error": error}).encode("utf-8")
        environ = EnvironBuilder(path=path, method=method, query_string=query, headers=headers, data=body).get_environ()
        response = Response.from_app(self.app, environ, buffered=True)
        sent = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return response.status_code, sent, response.get_data()


def application(directory: Path, replicas: int, examples: Sequence[str] = ()) -> serve.Application:
    """The Serve application of the sharded collection in directory: a deployment of replicas per shard, and the
    ingress."""
    dirs = shards.shard_dirs(directory)
    for folder in dirs:  # named here, before any replica starts, rather than in a replica's log
        store.read_manifest(folder)
    names = [d.name for d in dirs]
    bound = [
        serve.deployment(ShardReplica, name=name, num_replicas=replicas, ray_actor_options={"num_cpus": 0}).bind(
            str(folder.resolve())
        )
        for name, folder in zip(names, dirs)
    ]
    ingress = serve.deployment(
        Ingress,
        name=INGRESS,
        num_replicas=replicas,
        ray_actor_options={"num_cpus": 0},
        max_ongoing_requests=INGRESS_REQUESTS,
    )
    return ingress.bind(names, bound, list(examples))


def app(args: dict[str, str]) -> serve.Application:
    """The application for a Serve config file or `serve run qa.cluster:app index=DIR replicas=R`."""
    return application(Path(args["index"]), int(args.get("replicas", 1)))


def start(
    directory: Path,
    address: str,
    replicas: int,
    host: str = "127.0.0.1",
    port: int = 8000,
    examples: Sequence[str] = EXAMPLES,
) -> str:
    """Connect to the Ray cluster at address ("auto": the one started on this machine), deploy the sharded
    collection in directory and return the URL it answers on."""
    if not ray.is_initialized():
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    serve.start(proxy_location="HeadOnly", http_options={"host": host, "port": port}, logging_config=QUIET)
    serve.run(application(directory, replicas, examples), name=APPLICATION, route_prefix="/", logging_config=QUIET)
    return f"http://{host}:{port}"


def stop() -> None:
    """Take the application down and leave the Ray cluster (the cluster itself keeps running)."""
    serve.delete(APPLICATION)
    ray.shutdown()


# The distributed build: one Ray task per shard, reading the sources and writing its shard on shared storage.


@ray.remote(max_retries=3, retry_exceptions=False)
def _build_shard(
    sources: list[str], out: str, number: int, count: int, max_file_size: int, workers: int
) -> BuildReport:
    """Read the sources and write shard number of count, analysing in workers processes (a worker that dies is
    retried: the write is atomic)."""
    paths = [Path(s) for s in sources]
    groups, skipped = shards.read_sharded(paths, count, max_file_size, only=number)
    folder = Path(out) / shards.shard_name(number)
    with store.writing(folder):
        report = shards.build_shard(groups[number], folder, paths, workers=workers)
    report.skipped = skipped
    return report


def build(
    sources: Sequence[Path],
    out: Path,
    count: int,
    address: str,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    waiting: store.Waiting | None = None,
    max_file_size: int = corpus.MAX_FILE_SIZE,
) -> BuildReport:
    """Index the sources into out as count shards, each built by a Ray task of workers CPUs on some node of the
    cluster at address; progress is told how many shards are done. out must be on storage every node reaches."""
    started = time.perf_counter()
    if not ray.is_initialized():
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    with store.writing(out, waiting):
        pending = [
            _build_shard.options(num_cpus=workers).remote(
                [str(Path(s).resolve()) for s in sources], str(out.resolve()), n, count, max_file_size, workers
            )
            for n in range(count)
        ]
        reports: list[BuildReport] = []
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            reports.append(ray.get(done[0]))
            if progress:
                progress(len(reports), count)
        if any(r.passages for r in reports):
            shards.write_listing(out, count)
    skipped = list({(s.source, s.reason): s for r in reports for s in r.skipped}.values())  # each task reads all
    return BuildReport(
        sum(r.documents for r in reports), sum(r.passages for r in reports), skipped, time.perf_counter() - started
    )
