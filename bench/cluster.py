"""The sharded collection on a local Ray cluster: the distributed build on one and on two worker nodes, and
requests/s with p50/p99 of Ray Serve against shards and replicas, with today's gunicorn server (`qa serve`) on the
same documents as the baseline in the same run. Needs the [cluster] extra; every cluster is shut down at the end.

    python bench/corpora.py --sizes 10k
    python bench/cluster.py build --corpus bench/data/10k/corpus.jsonl --shards 4
    python bench/cluster.py serve --corpus bench/data/10k/corpus.jsonl --questions bench/data/10k/queries.json
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import ray
from load import load, measure, percentile, read_questions, serve_command
from ray import serve
from ray.cluster_utils import Cluster

from qa import cluster, index, shards, store

RESULTS = Path(__file__).resolve().parent / "results"


def local_cluster(workers: int, head_cpus: int = 0) -> Cluster:
    """A head node (head_cpus CPUs) and worker nodes of one CPU each, on this machine."""
    made = Cluster(initialize_head=True, head_node_args={"num_cpus": head_cpus})
    for _ in range(workers):
        made.add_node(num_cpus=1)
    made.wait_for_nodes()
    ray.init(address=made.address, log_to_driver=False)
    return made


def shut_down(made: Cluster) -> None:
    if ray.is_initialized():
        serve.shutdown()
        ray.shutdown()
    made.shutdown()


def build(corpus: Path, shard_count: int) -> dict:
    """Seconds and passages per second of the distributed build on one and on two worker nodes."""
    figures = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory(prefix="qa-cluster-build-") as scratch:
            made = local_cluster(workers)
            try:
                started = time.perf_counter()
                report = cluster.build([corpus], Path(scratch), shard_count, made.address)
                seconds = time.perf_counter() - started
            finally:
                shut_down(made)
        figures[workers] = {
            "seconds": round(seconds, 1),
            "passages": report.passages,
            "passages_per_s_per_node": round(report.passages / seconds / workers, 1),
        }
        print(
            f"{workers} worker node(s), {shard_count} shards: {report.passages} passages in {seconds:.1f} s, "
            f"{report.passages / seconds / workers:.1f} passages/s per node",
            flush=True,
        )
    print(f"speed-up with two nodes: {figures[1]['seconds'] / figures[2]['seconds']:.2f}x")
    return figures


def serving(corpus: Path, questions: list[str], clients: int, duration: float) -> dict:
    """The gunicorn server on one collection, then Ray Serve on two shards with one and with two replicas each
    (a cluster of two nodes of one CPU each), under the same load."""
    figures = {}
    with tempfile.TemporaryDirectory(prefix="qa-cluster-serve-") as scratch:
        single, sharded = Path(scratch) / "single", Path(scratch) / "sharded"
        index.build([corpus], single)
        shards.build([corpus], sharded, 2)
        runs = [measure("gunicorn, one collection (qa serve)", serve_command(single), clients, duration, questions)]
        for replicas in (1, 2):
            runs.append(ray_run(sharded, replicas, clients, duration, questions))
        for run in runs:
            rate = len(run.latencies) / run.wall
            figures[run.name] = {
                "answers_per_s": round(rate, 1),
                "p50_ms": round(percentile(run.latencies, 0.5), 1),
                "p99_ms": round(percentile(run.latencies, 0.99), 1),
                "errors": len(run.errors),
            }
            print(
                f"{run.name}: {rate:.1f} answers/s, p50 {percentile(run.latencies, 0.5):.1f} ms, "
                f"p99 {percentile(run.latencies, 0.99):.1f} ms, {len(run.errors)} errors",
                flush=True,
            )
        shard_bytes = [sum(f.stat().st_size for f in d.iterdir()) for d in shards.shard_dirs(sharded)]
        figures["shard_mib"] = [round(b / 2**20, 1) for b in shard_bytes]
        figures["passages"] = store.load(single).postings.n_live
    return figures


class RayRun:
    """What measure() gives, for Ray Serve started in this process."""

    def __init__(self, name: str, tallies: list, wall: float):
        self.name, self.wall = name, wall
        self.latencies = [v for t in tallies for v in t.latencies]
        self.errors = [e for t in tallies for e in t.errors]


def ray_run(sharded: Path, replicas: int, clients: int, duration: float, questions: list[str]) -> RayRun:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    made = local_cluster(2)
    try:
        cluster.start(sharded, made.address, replicas, port=port)
        load(port, 1, 3.0, questions)  # every replica's engine ready before the clock starts
        tallies, wall = load(port, clients, duration, questions)
        memory = {
            kind: resident_mib(f"ray::ServeReplica:{cluster.APPLICATION}:{kind}") for kind in ("shard", "ingress")
        }
    finally:
        shut_down(made)
    run = RayRun(f"Ray Serve, 2 shards x {replicas} replica(s), 2 nodes", tallies, wall)
    print(f"resident memory per replica (MiB): {memory}")
    return run


def resident_mib(title: str) -> list[float]:
    """The resident memory of each process whose command line starts with title, in MiB."""
    sizes = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if cmdline.read_bytes().startswith(title.encode()):
                rss = next(
                    line for line in (cmdline.parent / "status").read_text().splitlines() if line.startswith("VmRSS:")
                )
                sizes.append(round(int(rss.split()[1]) / 1024, 1))
        except (OSError, StopIteration):
            continue
    return sorted(sizes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["build", "serve"])
    parser.add_argument("--corpus", type=Path, required=True, help="a corpus.jsonl of bench/data")
    parser.add_argument("--shards", type=int, default=4, help="shards of the distributed build (default 4)")
    parser.add_argument("--questions", type=Path, help="a queries.json of bench/data")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average before {os.getloadavg()[0]:.2f} (other work skews the figures)")
    if args.what == "build":
        figures = build(args.corpus.resolve(), args.shards)
    else:
        figures = serving(args.corpus.resolve(), read_questions(args.questions), args.clients, args.duration)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"cluster-{args.what}.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
