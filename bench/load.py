"""Load check of the real server on loopback: N client threads asking for D seconds, then latency figures.

Starts `qa serve` (its default workers, or --workers) on a free loopback port over the built-in article (or
--index DIR), runs --clients threads for --duration seconds (each on its own keep-alive connection, POSTing varied
Vietnamese questions like the chat page does, or those of --questions), prints requests/s, p50/p99 latency and
errors, stops the server with Ctrl-C (SIGINT) and exits 1 if there were errors or p99 is over --p99-bar-ms.
With --slow N, N more connections meanwhile send their requests one byte a second (half the head, half the
body after a whole head), each starting again when the server drops it, as a slow or hostile client would.
With --changes N (and --index), the load goes to a copy of the collection while N documents are added and
removed there one after the other with `qa index add` and `qa index remove`; it reports how long each change
took to be answered (from the command's end to the first answer from the added document) and the failures.
With --baseline, the same load then goes to bench/baseline.py (plain rank-bm25 on the same index, terms and
server) and the two are compared. Standard library only: http.client and threads.

    python bench/load.py                     # 16 clients, 10 s
    python bench/load.py --clients 4 --duration 5
    python bench/load.py --slow 10           # the same, while 10 connections trickle a byte a second
    python bench/load.py --index bench/data/10k/index --changes 20   # 20 adds and removes during the load
    python bench/load.py --index bench/data/10k/index --questions bench/data/10k/queries.json --baseline
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
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


def serve_command(index_dir: Path | None, baseline: bool = False, workers: int | None = None) -> list[str]:
    """`qa serve`, or the plain rank-bm25 server, on a free loopback port (port 0: read back from its output)."""
    command = (
        [sys.executable, str(Path(__file__).with_name("baseline.py"))]
        if baseline
        else [sys.executable, "-m", "qa.cli", "serve"] + (["--workers", str(workers)] if workers else [])
    )
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
        server = subprocess.Popen(
            command,
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
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


@dataclass
class Trickle:
    """What the slow connections saw: how often the server dropped them, after how long, and what it said."""

    dropped_after: list[float] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)


def slow_client(port: int, number: int, until: float, trickle: Trickle) -> None:
    """Send a request one byte a second (the head, or the body after a whole head) until the deadline.

    Starts again on a new connection whenever the server drops this one; what it answered, if anything,
    goes into trickle.replies (its status line).
    """
    body = json.dumps({"question": QUESTIONS[0]}).encode()
    head = (
        f"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    at_once, slowly = (b"", head + body) if number % 2 == 0 else (head, body)
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=max(0.1, until - started)) as sock:
                sock.sendall(at_once)
                for byte in slowly:
                    sock.sendall(bytes([byte]))
                    if time.monotonic() + 1 > until:
                        return
                    readable, _, _ = select.select([sock], [], [], 1.0)
                    if readable:  # the server answered or closed before the request was whole
                        reply = sock.recv(200)
                        trickle.replies.append(reply.split(b"\r\n", 1)[0].decode("latin-1") or "closed")
                        trickle.dropped_after.append(time.monotonic() - started)
                        break
        except OSError as error:
            trickle.replies.append(f"{type(error).__name__}")
            trickle.dropped_after.append(time.monotonic() - started)
            time.sleep(0.1)


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


CHANGE_TEXT = "Bản tin số {n}: hợp tác xã Quyết Thắng thu hoạch {n} tấn vải thiều sớm trong mùa."
CHANGE_QUESTION = "hợp tác xã Quyết Thắng thu hoạch bao nhiêu tấn vải thiều"


def change_collection(port: int, collection: Path, count: int, switches: list[float], errors: list[str]) -> None:
    """Add a document and remove it again, count times in all, one after the other; after each add, the seconds
    until the server answers from it go to switches."""
    qa = [sys.executable, "-m", "qa.cli"]
    for n in range(count):
        doc_id = f"ban-tin-{n // 2}"
        if n % 2 == 0:
            source = collection.parent / f"{doc_id}.jsonl"
            source.write_text(
                json.dumps({"id": doc_id, "title": "Bản tin", "text": CHANGE_TEXT.format(n=n)}, ensure_ascii=False)
                + "\n",
                encoding="utf-8",
            )
            command = qa + ["index", "add", str(source), "--index", str(collection)]
        else:
            command = qa + ["index", "remove", doc_id, "--index", str(collection)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            errors.append(f"{' '.join(command[3:5])}: {done.stderr.strip()[:200]}")
            continue
        if n % 2 == 0:
            ended, connection = time.monotonic(), http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            while time.monotonic() - ended < 30:
                connection.request(
                    "POST",
                    "/api/ask",
                    json.dumps({"question": CHANGE_QUESTION, "top_k": 1}),
                    {"Content-Type": "application/json"},
                )
                answers = json.loads(connection.getresponse().read())["answers"]
                if answers and answers[0]["doc_id"] == doc_id:
                    switches.append(time.monotonic() - ended)
                    break
                time.sleep(0.02)
            else:
                errors.append(f"{doc_id} was not answered within 30 s of its add")
            connection.close()


def load(
    port: int, clients: int, duration: float, questions: Sequence[str], slow: int, trickle: Trickle
) -> tuple[list[Tally], float]:
    """Run the client threads (and the slow ones); returns what each client saw and the wall time it took."""
    tallies = [Tally() for _ in range(clients)]
    trickling = [
        threading.Thread(target=slow_client, args=(port, n, time.monotonic() + duration + 1, trickle), daemon=True)
        for n in range(slow)
    ]
    for thread in trickling:
        thread.start()
    if slow:
        time.sleep(1)  # every slow connection has begun before the clients start
    until = time.monotonic() + duration
    threads = [
        threading.Thread(target=client, args=(port, n, until, tallies[n], questions), daemon=True)
        for n in range(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 30)  # bounded even if the server hangs: 10 s socket timeout
    wall = time.perf_counter() - started
    for thread in trickling:
        thread.join(timeout=5)
    return tallies, wall


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
    trickle: Trickle
    switches: list[float] = field(default_factory=list)  # seconds from a change's end to its first answer

    @property
    def failed(self) -> bool:
        return bool(self.errors) or not self.latencies or self.exit_code != 0 or "Traceback" in self.server_log


def measure(
    name: str,
    command: list[str],
    clients: int,
    duration: float,
    questions: Sequence[str],
    slow: int = 0,
    changes: tuple[Path, int] | None = None,
) -> Run:
    """Start the server, load it (with `slow` trickling connections beside, and changes made to the collection
    meanwhile), stop it with Ctrl-C."""
    with tempfile.TemporaryDirectory(prefix="qa-load-") as scratch:
        log = Path(scratch) / "server.log"
        server, port = start_server(command, log)
        switches: list[float] = []
        change_errors: list[str] = []
        try:
            server_cpu, client_cpu = cpu_seconds(server.pid), sum(os.times()[:2])
            trickle = Trickle()
            changer = (
                threading.Thread(target=change_collection, args=(port, *changes, switches, change_errors), daemon=True)
                if changes
                else None
            )
            if changer:
                changer.start()
            tallies, wall = load(port, clients, duration, questions, slow, trickle)
            if changer:
                changer.join(timeout=120)
            server_cpu = (cpu_seconds(server.pid) or 0) - server_cpu if server_cpu is not None else None
            client_cpu = sum(os.times()[:2]) - client_cpu
        finally:
            exit_code = stop_server(server)
        return Run(
            name,
            [v for t in tallies for v in t.latencies],
            [v for t in tallies for v in t.engine_ms],
            [e for t in tallies for e in t.errors] + change_errors,
            wall,
            port,
            server_cpu,
            client_cpu,
            exit_code,
            log.read_text(),
            trickle,
            switches,
        )


def report(run: Run) -> None:
    latencies, engine_ms, errors, wall = run.latencies, run.engine_ms, run.errors, run.wall
    print(f"== {run.name}: server on 127.0.0.1:{run.port}, {wall:.1f} s")
    print(f"requests   {len(latencies) + len(errors)}  ({len(latencies) / wall:.1f} answers/s)")
    print(
        f"latency    p50 {percentile(latencies, 0.50):.1f} ms   p90 {percentile(latencies, 0.90):.1f} ms   "
        f"p99 {percentile(latencies, 0.99):.1f} ms   max {max(latencies, default=float('nan')):.1f} ms"
    )
    print(
        f"engine     p50 {percentile(engine_ms, 0.50):.1f} ms   p99 {percentile(engine_ms, 0.99):.1f} ms  "
        f"(took_ms: time inside ask; the rest is queueing, HTTP and JSON)"
    )
    if run.server_cpu is not None:  # each worker process can use one core at most (the GIL)
        print(
            f"CPU        server {run.server_cpu / wall:.0%} of a core (all workers), "
            f"load clients {run.client_cpu / wall:.0%} of a core"
        )
    print(
        f"errors     {len(errors)}"
        + (f"  first: {errors[0]}" if errors else "")
        + f"   answers that took over 1 s: {sum(v > 1000 for v in latencies)}"
    )
    if run.trickle.dropped_after or run.trickle.replies:
        replies = sorted(set(run.trickle.replies))
        print(
            f"slow       dropped {len(run.trickle.dropped_after)} times, after "
            f"{percentile(run.trickle.dropped_after, 0.5):.1f} s (median); replies: {', '.join(replies)}"
        )
    if run.switches:
        print(
            f"changes    {len(run.switches)} adds answered after {percentile(run.switches, 0.5) * 1000:.0f} ms "
            f"(median), {max(run.switches) * 1000:.0f} ms at most, each with a remove after it"
        )
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
    parser.add_argument("--workers", type=int, help="qa serve's worker processes (default: its own)")
    parser.add_argument("--slow", type=int, default=0, help="connections sending a byte a second meanwhile")
    parser.add_argument("--baseline", action="store_true", help="then load plain rank-bm25 the same way")
    parser.add_argument("--p99-bar-ms", type=float, default=100.0, help="fail above this p99 (default 100)")
    parser.add_argument("--changes", type=int, default=0, help="adds and removes made meanwhile (needs --index)")
    args = parser.parse_args(argv)
    if args.changes and not args.index:
        parser.error("--changes needs --index: the built-in article is not changed this way")
    if not 1 <= args.clients <= 256 or not 0 <= args.slow <= 256 or not 0 < args.duration <= 600:
        parser.error("--clients and --slow must be 1..256 (--slow may be 0) and --duration 0..600 seconds")
    questions = read_questions(args.questions)

    busy_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"clients {args.clients}, slow {args.slow}, {os.cpu_count()} CPUs, {len(questions)} questions, "
        f"load average before {busy_before:.2f} (other work on the machine skews the figures)"
    )
    with tempfile.TemporaryDirectory(prefix="qa-changes-") as scratch:
        served = args.index
        if args.changes:  # a copy: the collection measured is not changed
            served = Path(scratch) / "collection"
            shutil.copytree(args.index, served)
        ours = measure(
            "qa serve",
            serve_command(served, workers=args.workers),
            args.clients,
            args.duration,
            questions,
            args.slow,
            (served, args.changes) if args.changes else None,
        )
    report(ours)
    over = percentile(ours.latencies, 0.99) > args.p99_bar_ms
    if over:
        print(f"p99 is over the {args.p99_bar_ms:.0f} ms bar")
    if args.baseline:
        plain = measure(
            "plain rank-bm25 (bench/baseline.py)",
            serve_command(args.index, baseline=True),
            args.clients,
            args.duration,
            questions,
            args.slow,
        )
        report(plain)
        rates = [len(run.latencies) / run.wall for run in (ours, plain)]  # the walls differ: the last answers wait
        p50 = [percentile(run.latencies, 0.5) for run in (ours, plain)]
        print(
            f"== ours vs plain rank-bm25, same run: {rates[0] / max(rates[1], 1e-9):.1f}x the "
            f"answers/s; latency p50 {p50[0]:.1f} ms vs {p50[1]:.1f} ms ({p50[1] / p50[0]:.1f}x)"
        )
    return 1 if ours.failed or over else 0


if __name__ == "__main__":
    sys.exit(main())
