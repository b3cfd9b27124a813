"""Child processes for the benchmarks: free ports, run-to-end with peak memory, the app server.

Peak memory is read from ``/proc/<pid>/status`` (VmHWM) while the child runs, because a
child's ``ru_maxrss`` also counts the memory of the parent it was forked from, up to its exec.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csto_qa.errors import CstoQaError

CLI = [sys.executable, "-m", "csto_qa.cli"]


def free_port() -> int:
    """A TCP port nothing listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment, offline and without Gradio's analytics, plus ``extra``."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    return {**env, **(extra or {})}


def status_mb(field: str, pid: int | str = "self") -> float | None:
    """A memory line of /proc/<pid>/status (VmRSS, VmHWM) in MiB (Linux), else None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory of a process (VmHWM; this process's ru_maxrss where /proc is missing)."""
    found = status_mb("VmHWM", pid)
    return found if found is not None else round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def current_rss_mb(pid: int | str = "self") -> float | None:
    """Resident memory of a process now (VmRSS), or None where /proc is missing."""
    return status_mb("VmRSS", pid)


def _has_exec(pid: int, command: list[str]) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        return argv[: len(command)] == [part.encode() for part in command]
    except OSError:
        return False


def run_child(
    command: list[str], env: dict[str, str] | None = None, timeout: float = 900.0
) -> dict[str, Any]:
    """Run a process to its end: wall seconds, exit code, its own peak RSS, its stdout (if one JSON line)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=child_env(env))
        peak = 0.0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if _has_exec(process.pid, command):  # before exec, /proc shows the forked parent
                peak = max(peak, status_mb("VmHWM", process.pid) or 0.0)
            if time.perf_counter() - started > timeout:
                process.kill()
                os.wait4(process.pid, 0)
                raise RuntimeError(f"{' '.join(command[:4])}… took more than {timeout:.0f} s")
            time.sleep(0.005)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, error = out.read().decode("utf-8", "replace").strip(), err.read().decode("utf-8", "replace")
    # The last /proc reading is a few ms before the exit; ru_maxrss would add the parent's RSS.
    peak = peak or round(usage.ru_maxrss / 1024, 1)
    result: dict[str, Any] = {"wall_s": round(wall, 3), "returncode": process.returncode, "peak_mb": peak}
    if process.returncode != 0:
        result["error"] = error.strip()[-300:]
    if text.startswith("{") and text.endswith("}") and "\n" not in text:
        result["output"] = json.loads(text)
    return result


def repeated(runs: int, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Median of several fresh-process measurements (``run_child`` results)."""
    results = [measure() for _ in range(runs)]
    walls = [r["wall_s"] for r in results]
    summary: dict[str, Any] = {
        "median_s": round(statistics.median(walls), 3),
        "min_s": min(walls),
        "max_s": max(walls),
        "ok": all(r["returncode"] == 0 for r in results),
        "peak_mb": max(r["peak_mb"] for r in results),
    }
    inner = [r["output"]["seconds"] for r in results if "seconds" in r.get("output", {})]
    if inner:
        summary["in_process_median_s"] = round(statistics.median(inner), 3)
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        summary["error"] = errors[0]
    return summary


@dataclass(frozen=True)
class AppServer:
    """A running ``csto-qa app`` child: where it answers, its pid, seconds from start to ready."""

    url: str
    pid: int
    ready_s: float


def _answers(url: str) -> bool:
    # No proxy: loopback traffic must never go through one from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextlib.contextmanager
def app_server(engine_args: list[str] | None = None, timeout: float = 900.0) -> Iterator[AppServer]:
    """Start ``csto-qa app`` on 127.0.0.1 and a free port; ready at its first HTTP 200; stopped after."""
    port = free_port()
    command = [*CLI, "app", "--host", "127.0.0.1", "--port", str(port), *(engine_args or [])]
    url = f"http://127.0.0.1:{port}"
    # A file, not a pipe: a chatty server must never block on a full pipe.
    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=child_env())
        try:
            while not _answers(url + "/"):
                if server.poll() is not None:
                    log.seek(0)
                    raise CstoQaError(
                        f"the app server exited with code {server.returncode}: {log.read()[-2000:].strip()}"
                    )
                if time.perf_counter() - started > timeout:
                    raise CstoQaError(f"the app server did not answer on {url} within {timeout:.0f} s")
                time.sleep(0.1)
            yield AppServer(url, server.pid, round(time.perf_counter() - started, 3))
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(15)
