"""Load test of the chat app's public API on loopback: N concurrent clients for T seconds.

    python -m benchmarks.loadtest --clients 16 --seconds 60       # starts its own app server
    python -m benchmarks.loadtest --clients 8 --requests 5000     # memory run: stops after 5,000 requests
    python -m benchmarks.loadtest --url http://127.0.0.1:7860     # an app that is already running

Each client calls the ``/ask`` endpoint the way any HTTP client would (``POST
/gradio_api/call/ask``, then read the event stream of the result) and checks that the
reply is an answer. The report gives throughput, p50/p95/p99 latency, failures, and the
server's resident memory (RSS) after warm-up, at its peak and at the end.

Everything is bounded: at most ``MAX_CLIENTS`` clients, ``MAX_SECONDS`` seconds and
``MAX_REQUESTS`` requests; the run stops by itself, and only loopback addresses are
accepted, so it can never load someone else's server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from benchmarks.measure import percentile
from benchmarks.options import add_engine_options, engine_args
from benchmarks.processes import app_server, current_rss_mb
from csto_qa.config import MODES, Mode
from csto_qa.errors import CstoQaError

MAX_CLIENTS = 64
MAX_SECONDS = 900.0
MAX_REQUESTS = 100_000
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
REQUEST_TIMEOUT = 120.0  # one request; far above any normal latency, so a stall is a failure
QUESTIONS = (
    "When did Uzbekistan suspend its CSTO membership?",
    "Which countries are members of the CSTO?",
    "When was the Collective Security Treaty signed?",
    "What did the CSTO do in Kazakhstan in January 2022?",
    "Who is the Secretary General of the CSTO?",
    "What is the Collective Rapid Reaction Force?",
    "Why did Armenia freeze its participation?",
    "Where is the CSTO headquartered?",
    "Когда была основана ОДКБ?",
    "What is the capital of Australia?",  # off topic: the engine abstains, still a success
    "and when did it leave?",
    "",  # empty: the friendly prompt, still a success
)


@dataclass
class LoadReport:
    """What one run measured; latencies in milliseconds, memory in MiB."""

    url: str
    clients: int
    seconds: float
    requests: int
    failed: int
    throughput_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    rss_start_mb: float | None
    rss_peak_mb: float | None
    rss_end_mb: float | None
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        def mb(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.0f} MiB"

        lines = [
            f"load test of {self.url}/ask: {self.clients} clients for {self.seconds:.1f} s",
            f"  requests   {self.requests:,} ok, {self.failed:,} failed",
            f"  throughput {self.throughput_rps:.1f} requests/s",
            f"  latency    p50 {self.p50_ms:.0f} ms · p95 {self.p95_ms:.0f} ms · "
            f"p99 {self.p99_ms:.0f} ms · max {self.max_ms:.0f} ms",
            f"  server RSS {mb(self.rss_start_mb)} after warm-up · peak {mb(self.rss_peak_mb)} · "
            f"end {mb(self.rss_end_mb)}",
        ]
        lines += [f"  error: {e}" for e in self.errors]
        return "\n".join(lines)


def check_loopback(url: str) -> str:
    """``url`` without a trailing slash, if it points at this machine; an error otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK:
        raise CstoQaError(f"the load test only runs against this machine (127.0.0.1), not {url!r}")
    return url.rstrip("/")


def rss_mb(pid: int | None) -> float | None:
    """Resident memory of the server in MiB (None without a pid or off Linux)."""
    return None if pid is None else current_rss_mb(pid)


def ask_once(client: Any, base: str, question: str, k: int = 5, mode: str = "hybrid") -> dict:
    """One call of the app's ``/ask`` endpoint through its HTTP API; raises on any failure."""
    posted = client.post(f"{base}/gradio_api/call/ask", json={"data": [question, k, mode, []]})
    posted.raise_for_status()
    event_id = posted.json()["event_id"]
    event = ""
    with client.stream("GET", f"{base}/gradio_api/call/ask/{event_id}") as stream:
        stream.raise_for_status()
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                data = json.loads(line.split(":", 1)[1])
                if event == "error":
                    raise RuntimeError(f"the app answered with an error: {str(data)[:200]}")
                result = data[0] if isinstance(data, list) and data else data
                if not isinstance(result, dict) or "passages" not in result or "abstained" not in result:
                    raise RuntimeError(f"unexpected reply: {str(data)[:200]}")
                return result
    raise RuntimeError("the event stream ended without a result")


def run_load(
    url: str,
    clients: int = 16,
    seconds: float = 60.0,
    max_requests: int | None = None,
    server_pid: int | None = None,
    questions: tuple[str, ...] = QUESTIONS,
    k: int = 5,
    mode: str = "hybrid",
) -> LoadReport:
    """Run ``clients`` concurrent clients against ``url`` until ``seconds`` pass or
    ``max_requests`` requests are done, whichever comes first."""
    import httpx

    base = check_loopback(url)
    if not 1 <= clients <= MAX_CLIENTS:
        raise CstoQaError(f"--clients {clients} must be from 1 to {MAX_CLIENTS}")
    if not 0 < seconds <= MAX_SECONDS:
        raise CstoQaError(f"--seconds {seconds} must be more than 0 and at most {MAX_SECONDS:.0f}")
    budget = min(max_requests or MAX_REQUESTS, MAX_REQUESTS)
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    issued = 0

    def new_client() -> httpx.Client:
        # trust_env=False: a proxy from the environment must never see loopback traffic.
        return httpx.Client(timeout=REQUEST_TIMEOUT, trust_env=False)

    # Warm-up, not measured: every client once, so lazily allocated buffers, thread
    # pools and caches exist before the starting RSS is read.
    def warm(i: int) -> None:
        with new_client() as client, contextlib.suppress(Exception):
            ask_once(client, base, questions[i % len(questions)], k, mode)

    warmers = [threading.Thread(target=warm, args=(i,)) for i in range(clients)]
    for thread in warmers:
        thread.start()
    for thread in warmers:
        thread.join(REQUEST_TIMEOUT)
    rss_start = rss_mb(server_pid)
    peak = [rss_start]
    started = time.perf_counter()
    deadline = started + seconds
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            value = rss_mb(server_pid)
            if value is not None and (peak[0] is None or value > peak[0]):
                peak[0] = value

    def work(worker: int) -> None:
        nonlocal issued
        with new_client() as client:
            while time.perf_counter() < deadline:
                with lock:
                    if issued >= budget:
                        return
                    number = issued
                    issued += 1
                question = questions[(worker + number) % len(questions)]
                t0 = time.perf_counter()
                try:
                    ask_once(client, base, question, k, mode)
                except Exception as exc:  # any failure is counted and reported, never raised
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}"[:300])
                    continue
                with lock:
                    latencies.append((time.perf_counter() - t0) * 1000)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    workers = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(clients)]
    for thread in workers:
        thread.start()
    for thread in workers:  # every request has a timeout, so this ends
        thread.join(seconds + REQUEST_TIMEOUT + 10)
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join(2)
    rss_end = rss_mb(server_pid)
    ordered = sorted(latencies)
    distinct = list(dict.fromkeys(errors))[:5]
    return LoadReport(
        url=base,
        clients=clients,
        seconds=round(elapsed, 2),
        requests=len(latencies),
        failed=len(errors),
        throughput_rps=round(len(latencies) / elapsed, 2) if elapsed else 0.0,
        p50_ms=round(percentile(ordered, 50), 1),
        p95_ms=round(percentile(ordered, 95), 1),
        p99_ms=round(percentile(ordered, 99), 1),
        max_ms=round(ordered[-1], 1) if ordered else 0.0,
        rss_start_mb=None if rss_start is None else round(rss_start, 1),
        rss_peak_mb=None if peak[0] is None else round(peak[0], 1),
        rss_end_mb=None if rss_end is None else round(rss_end, 1),
        errors=distinct,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.loadtest",
        description="Load-test the chat app's /ask API on this machine (loopback only).",
    )
    parser.add_argument("--clients", type=int, default=16, help=f"concurrent clients, 1-{MAX_CLIENTS} (16)")
    parser.add_argument(
        "--seconds",
        type=float,
        help=f"duration, at most {MAX_SECONDS:.0f} (default: 60, or {MAX_SECONDS:.0f} with --requests)",
    )
    parser.add_argument("--requests", type=int, help="stop after this many requests (default: time only)")
    parser.add_argument("--url", help="an app already running on 127.0.0.1 (default: start one)")
    parser.add_argument("--k", type=int, default=5, help="passages per answer (5)")
    parser.add_argument("--mode", choices=MODES, default=Mode.HYBRID.value)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_engine_options(parser)  # for the server it starts
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.seconds is None:  # a request count is the goal: time is only the safety bound
        args.seconds = MAX_SECONDS if args.requests else 60.0
    try:
        if args.url:
            report = run_load(
                args.url, args.clients, args.seconds, args.requests, None, k=args.k, mode=args.mode
            )
        else:
            print("loadtest: starting the app server (loads the model and the index)…", file=sys.stderr)
            with app_server(engine_args(args)) as server:
                print(f"loadtest: server pid {server.pid} ready on {server.url}; running…", file=sys.stderr)
                report = run_load(
                    server.url,
                    args.clients,
                    args.seconds,
                    args.requests,
                    server.pid,
                    k=args.k,
                    mode=args.mode,
                )
    except CstoQaError as exc:
        print(f"loadtest: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.summary())
    return 0 if report.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
