"""``python -m benchmarks.loadtest``: the real app server (``csto-qa app`` in a child process,
loopback only) under 16 concurrent API clients answers every request, and its memory does
not keep growing."""

from __future__ import annotations

import contextlib
import socket

import pytest
from fakes import free_port

from benchmarks import loadtest
from benchmarks.processes import app_server
from csto_qa.app import ui
from csto_qa.errors import CstoQaError

CLIENTS = 16
SECONDS = 15.0
# The memory run is a fixed number of requests (not a duration), so the bound does not
# depend on how busy the machine is. Before the session cap every API request kept about
# 33 KB (~20 MiB over 600 requests, for ever); with it, growth fades to 1-3 MiB per 600
# requests once the cap is reached and the allocator is warm (measured: +8, +2, +1.5 MiB).
MEMORY_REQUESTS = 600
RSS_GROWTH_MB = 12.0
SESSION_CAP = getattr(ui, "STATE_SESSIONS", None)


@pytest.fixture(scope="module")
def server(index_dir, corpus_dir):
    with app_server(["--index-dir", str(index_dir), "--corpus-dir", str(corpus_dir)]) as running:
        yield running.url, running.pid


@pytest.mark.slow
def test_sixteen_clients_get_every_answer(server) -> None:
    url, pid = server
    report = loadtest.run_load(url, clients=CLIENTS, seconds=SECONDS, server_pid=pid)
    print("\n" + report.summary())
    assert report.failed == 0, report.errors
    assert report.requests >= CLIENTS  # every client got answers, and the run stopped by itself
    assert report.rss_start_mb is not None and report.rss_end_mb is not None


@pytest.mark.slow
def test_memory_stays_flat_under_load_once_warm(server) -> None:
    url, pid = server
    # Warm up well past the session cap: from then on each new session replaces the oldest.
    warm = loadtest.run_load(url, clients=CLIENTS, seconds=300, max_requests=(SESSION_CAP or 200) + 400)
    assert warm.failed == 0, warm.errors
    report = loadtest.run_load(url, CLIENTS, seconds=600, max_requests=MEMORY_REQUESTS, server_pid=pid)
    print("\n" + report.summary())
    assert report.failed == 0 and report.requests == MEMORY_REQUESTS, report.errors
    growth = report.rss_end_mb - report.rss_start_mb
    assert growth < RSS_GROWTH_MB, f"server RSS grew {growth:.1f} MiB over {report.requests} requests"


@pytest.mark.slow
def test_the_server_is_not_reachable_from_other_addresses(server) -> None:
    url, _ = server
    port = int(url.rsplit(":", 1)[1])
    addresses = set()
    with contextlib.suppress(OSError):
        addresses |= {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # UDP: sends nothing, only picks the outgoing interface
        addresses.add(probe.getsockname()[0])
    outside = [a for a in addresses if not a.startswith("127.")]
    if not outside:
        pytest.skip("this machine has no non-loopback IPv4 address to try")
    for address in outside:
        with socket.socket() as sock:
            sock.settimeout(3)
            assert sock.connect_ex((address, port)) != 0, f"the app answers on {address}:{port}"


def test_the_load_test_refuses_other_machines_and_unbounded_runs() -> None:
    for url in ("http://192.0.2.7:7860", "http://example.com", "ftp://127.0.0.1"):
        with pytest.raises(CstoQaError, match="only runs against this machine"):
            loadtest.run_load(url, clients=1, seconds=1)
    with pytest.raises(CstoQaError, match="--clients"):
        loadtest.run_load("http://127.0.0.1:9", clients=loadtest.MAX_CLIENTS + 1, seconds=1)
    with pytest.raises(CstoQaError, match="--seconds"):
        loadtest.run_load("http://127.0.0.1:9", clients=1, seconds=loadtest.MAX_SECONDS + 1)


def test_a_failing_server_is_counted_not_raised() -> None:
    port = free_port()  # nothing listens there
    report = loadtest.run_load(f"http://127.0.0.1:{port}", clients=2, seconds=1.0, max_requests=6)
    assert report.requests == 0 and report.failed == 6 and report.errors
