"""Load check of the real server on loopback: N client threads asking for D seconds, then latency figures.

Starts `qa serve` (gunicorn, 2 x cores + 1 workers) on a free loopback port over the built-in article (or --index
DIR), runs --clients threads for --duration seconds (each on its own keep-alive connection, POSTing varied
Vietnamese questions like the chat page does, or those of --questions), prints requests/s, p50/p99 latency and
errors, stops the server with Ctrl-C (SIGINT) and exits 1 if there were errors or p99 is over --p99-bar-ms.
With --baseline, the same load then goes to bench/baseline.py (plain rank-bm25 on the same index, terms and
server) and the two are compared. Standard library only: http.client and threads.

    python bench/load.py                     # 16 clients, 10 s
    python bench/load.py --clients 4 --duration 5
    python bench/load.py --index bench/data/10k/index --questions bench/data/10k/queries.json --baseline
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

QUESTIONS = (
    "Thu nhập bình quân đầu người năm 2022 đạt bao nhiêu?",
    "Đảng bộ thành phố đã kết nạp bao nhiêu đảng viên mới?",
    "Ai là Bí thư Thành ủy Chí Linh?",
    "ty le ho ngheo",
    "Thu ngân sách nhà nước trên địa bàn đạt bao nhiêu?",
    "tong gia tri san xuat binh quan moi nam tang bao nhieu",
    "Chí Linh là một trong mấy cực tăng trưởng của tỉnh Hải Dương?",
    "Thành phố sẽ tập trung thực hiện mấy nhóm nhiệm vụ, giải pháp trọng tâm?",
    "Quy hoạch chung thành phố đến năm nào?",
    "Chủ tịch UBND TP Chí Linh là ai?",
    "bao nhieu dang vien duoc trao huy hieu Dang",
    "Ai phát biểu chỉ đạo tại hội nghị?",
    "Giá vàng hôm nay thế nào?",  # nothing in the article: the not-found path costs time too
)
LOOPBACK = ("127.0.0.1", "::1", "localhost")
SERVING = re.compile(r"Serving on http://\[?([^\]\s]+?)\]?:(\d+)")


@dataclass
class Tally:
    """What one client thread saw: latencies of good answers, engine times, and failures."""

    latencies: list[float] = field(default_factory=list)
    engine_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the value below which `share` of the sorted values fall."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def serve_command(index_dir: Path | None, baseline: bool = False) -> list[str]:
    """`qa serve`, or the plain rank-bm25 server, on a free loopback port (port 0: read back from its output)."""
    command = [sys.executable, str(Path(__file__).with_name("baseline.py"))] if baseline else \
        [sys.executable, "-m", "qa.cli", "serve"]
    command += ["--host", "127.0.0.1", "--port", "0"]
    if index_dir is not None or baseline:
        from qa.index import default_index_dir

        command += ["--index", str(index_dir or default_index_dir())]
    return command


def start_server(command: list[str], log: Path) -> tuple[subprocess.Popen, int]:
    """Start a server command; returns it and the port it says it serves on."""
    out = log.with_suffix(".out")
    with open(out, "w") as stdout, open(log, "w") as stderr:
        # SIGINT back to its default, in case this script itself was started with it ignored (nohup, `&`).
        server = subprocess.Popen(command, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                  preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120  # a first run may build the index
    while time.monotonic() < deadline:
        match = SERVING.search(out.read_text())
        if match:
            return server, int(match.group(2))
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}:\n{log.read_text()}")
        time.sleep(0.05)
    server.kill()
    raise SystemExit("the server did not start within 120 s")


def stop_server(server: subprocess.Popen) -> int:
    """Ctrl-C, as a person would; killed only if it has not stopped within 10 s."""
    server.send_signal(signal.SIGINT)
    try:
        return server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        return -9


def client(port: int, number: int, until: float, tally: Tally, questions: Sequence[str]) -> None:
    """Ask question after question on one keep-alive connection until the deadline."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    asked = number
    while time.monotonic() < until:
        body = json.dumps({"question": questions[asked % len(questions)], "top_k": 3}).encode()
        asked += 1
        started = time.perf_counter()
        try:
            connection.request("POST", "/api/ask", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            data = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200:
                tally.errors.append(f"HTTP {response.status}: {data[:200]!r}")
                continue
            tally.latencies.append(elapsed)
            tally.engine_ms.append(json.loads(data)["took_ms"])
        except (OSError, http.client.HTTPException, ValueError, KeyError) as error:
            tally.errors.append(f"{type(error).__name__}: {error}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.close()


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process and its worker processes have used so far, from /proc."""
    total, found = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1] is the parent's pid
            total += int(fields[11]) + int(fields[12])
            found = True
    return total / os.sysconf("SC_CLK_TCK") if found else None


def load(port: int, clients: int, duration: float, questions: Sequence[str]) -> tuple[list[Tally], float]:
    """Run the client threads; returns what each saw and the wall time it took."""
    tallies = [Tally() for _ in range(clients)]
    until = time.monotonic() + duration
    threads = [threading.Thread(target=client, args=(port, n, until, tallies[n], questions), daemon=True)
               for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 30)  # bounded even if the server hangs: 10 s socket timeout
    return tallies, time.perf_counter() - started


@dataclass
class Run:
    """One server under the load: what the clients saw, the CPU it used, how it stopped."""

    name: str
    latencies: list[float]
    engine_ms: list[float]
    errors: list[str]
    wall: float
    port: int
    server_cpu: float | None
    client_cpu: float
    exit_code: int
    server_log: str

    @property
    def failed(self) -> bool:
        return bool(self.errors) or not self.latencies or self.exit_code != 0 or "Traceback" in self.server_log


def measure(name: str, command: list[str], clients: int, duration: float, questions: Sequence[str]) -> Run:
    """Start the server, load it, stop it with Ctrl-C."""
    with tempfile.TemporaryDirectory(prefix="qa-load-") as scratch:
        log = Path(scratch) / "server.log"
        server, port = start_server(command, log)
        try:
            server_cpu, client_cpu = cpu_seconds(server.pid), sum(os.times()[:2])
            tallies, wall = load(port, clients, duration, questions)
            server_cpu = (cpu_seconds(server.pid) or 0) - server_cpu if server_cpu is not None else None
            client_cpu = sum(os.times()[:2]) - client_cpu
        finally:
            exit_code = stop_server(server)
        return Run(name, [v for t in tallies for v in t.latencies], [v for t in tallies for v in t.engine_ms],
                   [e for t in tallies for e in t.errors], wall, port, server_cpu, client_cpu, exit_code,
                   log.read_text())


def report(run: Run) -> None:
    latencies, engine_ms, errors, wall = run.latencies, run.engine_ms, run.errors, run.wall
    print(f"== {run.name}: server on 127.0.0.1:{run.port}, {wall:.1f} s")
    print(f"requests   {len(latencies) + len(errors)}  ({len(latencies) / wall:.1f} answers/s)")
    print(f"latency    p50 {percentile(latencies, 0.50):.1f} ms   p90 {percentile(latencies, 0.90):.1f} ms   "
          f"p99 {percentile(latencies, 0.99):.1f} ms   max {max(latencies, default=float('nan')):.1f} ms")
    print(f"engine     p50 {percentile(engine_ms, 0.50):.1f} ms   p99 {percentile(engine_ms, 0.99):.1f} ms  "
          f"(took_ms: time inside ask; the rest is queueing, HTTP and JSON)")
    if run.server_cpu is not None:  # each worker process can use one core at most (the GIL)
        print(f"CPU        server {run.server_cpu / wall:.0%} of a core (all workers), "
              f"load clients {run.client_cpu / wall:.0%} of a core")
    print(f"errors     {len(errors)}" + (f"  first: {errors[0]}" if errors else ""))
    print(f"server     exit code {run.exit_code}" + ("  TRACEBACK in its log" if "Traceback" in run.server_log else ""))
    warnings = [line for line in run.server_log.splitlines() if line.strip()]
    if warnings:
        print(f"server log {len(warnings)} lines, last: {warnings[-1][:160]}")


def read_questions(path: Path | None) -> list[str]:
    """The built-in article's questions, or those of a JSON list ({"question": ...} each, as bench/ writes)."""
    if path is None:
        return list(QUESTIONS)
    return [item["question"] for item in json.loads(path.read_text(encoding="utf-8"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent client threads (default 16)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load (default 10)")
    parser.add_argument("--index", type=Path, help="index folder (default: the built-in article)")
    parser.add_argument("--questions", type=Path, help="a queries.json of bench/data (default: the article's)")
    parser.add_argument("--baseline", action="store_true", help="then load plain rank-bm25 the same way")
    parser.add_argument("--p99-bar-ms", type=float, default=100.0, help="fail above this p99 (default 100)")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 256 or not 0 < args.duration <= 600:
        parser.error("--clients must be 1..256 and --duration 0..600 seconds")
    questions = read_questions(args.questions)

    busy_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"clients {args.clients}, {os.cpu_count()} CPUs, {len(questions)} questions, load average before "
          f"{busy_before:.2f} (other work on the machine skews the figures)")
    ours = measure("qa serve", serve_command(args.index), args.clients, args.duration, questions)
    report(ours)
    over = percentile(ours.latencies, 0.99) > args.p99_bar_ms
    if over:
        print(f"p99 is over the {args.p99_bar_ms:.0f} ms bar")
    if args.baseline:
        plain = measure("plain rank-bm25 (bench/baseline.py)", serve_command(args.index, baseline=True),
                        args.clients, args.duration, questions)
        report(plain)
        rates = [len(run.latencies) / run.wall for run in (ours, plain)]  # the walls differ: the last answers wait
        print(f"== ours vs plain rank-bm25, same run: {rates[0] / max(rates[1], 1e-9):.1f}x the "
              f"answers/s; latency p50 {percentile(ours.latencies, 0.5):.1f} ms vs "
              f"{percentile(plain.latencies, 0.5):.1f} ms ({percentile(plain.latencies, 0.5) / percentile(ours.latencies, 0.5):.1f}x)")
    return 1 if ours.failed or over else 0


if __name__ == "__main__":
    sys.exit(main())
