"""The query encoder on a worker thread, so the caller does the vector-free work meanwhile.

A query is encoded on one onnxruntime thread (``OnnxBert``), and onnxruntime (like torch)
releases the GIL while it runs: the calling thread can tokenize the question, run the BM25
search and read the question's focus on the second core in that time, instead of after it.

One worker thread per ``BackgroundEncoder``, started at the first query. When it is busy
(another request of the app is being encoded), the caller encodes on its own thread, as
without a worker: concurrent requests never queue behind each other's encodings.
"""

from __future__ import annotations

import threading
import time
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from csto_qa.embedding.encoder import TextEncoder


@dataclass(frozen=True)
class Encoded:
    """A query vector and the encoder's own milliseconds (taken on the thread that ran it)."""

    vector: np.ndarray
    ms: float


class Pending:
    """An encoding under way on the worker, or one already done on the caller's thread."""

    def __init__(self, work: Future[Encoded] | Encoded) -> None:
        self._work = work

    def result(self) -> Encoded:
        """The vector (waiting for the worker; its error, if it failed, is raised here)."""
        if isinstance(self._work, Future):
            self._work = self._work.result()
        return self._work


def _timed(encoder: TextEncoder, text: str, busy: threading.Lock | None = None) -> Encoded:
    try:
        started = time.perf_counter()
        vector = encoder.encode_query(text)
        return Encoded(vector, (time.perf_counter() - started) * 1e3)
    finally:
        # Released before the result is visible, so the caller's next query finds the
        # worker free (a done-callback runs after the waiter may already have woken).
        if busy is not None:
            busy.release()


class BackgroundEncoder:
    """``start(text)`` begins encoding a query; ``Pending.result()`` waits for it."""

    def __init__(self, encoder: TextEncoder) -> None:
        self.encoder = encoder
        self._busy = threading.Lock()  # held while the worker has a query
        self._create = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def _worker(self) -> ThreadPoolExecutor:
        if self._executor is None:
            with self._create:
                if self._executor is None:
                    executor = ThreadPoolExecutor(1, thread_name_prefix="csto-qa-encode")
                    # The thread ends when this object is collected (or at exit, idle).
                    weakref.finalize(self, executor.shutdown, wait=False)
                    self._executor = executor
        return self._executor

    def start(self, text: str) -> Pending:
        if not self._busy.acquire(blocking=False):
            return Pending(_timed(self.encoder, text))
        try:
            return Pending(self._worker().submit(_timed, self.encoder, text, self._busy))
        except RuntimeError:  # no new threads once the interpreter shuts down: encode here
            self._busy.release()
            return Pending(_timed(self.encoder, text))

    def close(self) -> None:
        """End the worker thread (waiting for a query under way); a later query starts it again."""
        with self._create:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
