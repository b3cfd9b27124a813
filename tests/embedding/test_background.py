"""The query encoder's worker thread: same vectors, the encoder's own time, no queueing."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from fakes import FakeEncoder

from csto_qa.embedding.background import BackgroundEncoder


class GatedEncoder(FakeEncoder):
    """A fake encoder that records the thread of each call and can be held mid-encoding."""

    def __init__(self) -> None:
        self.threads: list[str] = []
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def encode_query(self, text: str) -> np.ndarray:
        self.threads.append(threading.current_thread().name)
        self.entered.set()
        if not self.gate.wait(timeout=10):
            raise TimeoutError("the test never opened the gate")
        if text == "fail":
            raise ValueError("the encoder failed")
        return super().encode_query(text)


def test_the_vector_is_the_encoders_own_and_is_encoded_on_the_worker() -> None:
    encoder = GatedEncoder()
    background = BackgroundEncoder(encoder)
    encoded = background.start("When was the CSTO founded?").result()
    assert np.array_equal(encoded.vector, FakeEncoder().encode_query("When was the CSTO founded?"))
    assert encoded.ms >= 0
    assert encoder.threads == ["csto-qa-encode_0"]
    background.close()


def test_a_query_arriving_while_the_worker_is_busy_is_encoded_on_its_own_thread() -> None:
    encoder = GatedEncoder()
    background = BackgroundEncoder(encoder)
    encoder.gate.clear()
    first = background.start("first question")
    assert encoder.entered.wait(timeout=10)
    encoder.gate.set()  # the second call runs inline, so the gate must be open for it
    second = background.start("second question")
    assert np.array_equal(second.result().vector, FakeEncoder().encode_query("second question"))
    assert np.array_equal(first.result().vector, FakeEncoder().encode_query("first question"))
    assert sorted(encoder.threads) == ["MainThread", "csto-qa-encode_0"]
    # Free again: the next query goes to the worker.
    background.start("third question").result()
    assert encoder.threads[-1] == "csto-qa-encode_0"
    background.close()


def test_an_encoder_error_is_raised_to_the_caller_and_frees_the_worker() -> None:
    encoder = GatedEncoder()
    background = BackgroundEncoder(encoder)
    pending = background.start("fail")
    with pytest.raises(ValueError, match="the encoder failed"):
        pending.result()
    background.start("after the error").result()
    assert encoder.threads == ["csto-qa-encode_0", "csto-qa-encode_0"]
    background.close()


def test_close_ends_the_thread_and_a_later_query_starts_another() -> None:
    encoder = GatedEncoder()
    background = BackgroundEncoder(encoder)
    background.start("one").result()
    background.close()
    assert not any(t.name.startswith("csto-qa-encode") for t in threading.enumerate())
    assert np.array_equal(background.start("two").result().vector, FakeEncoder().encode_query("two"))
    background.close()


def test_many_threads_asking_at_once_each_get_their_own_vector() -> None:
    background = BackgroundEncoder(FakeEncoder())
    texts = [f"question {i}" for i in range(40)]
    got: dict[str, np.ndarray] = {}

    def ask(text: str) -> None:
        got[text] = background.start(text).result().vector

    threads = [threading.Thread(target=ask, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert all(np.array_equal(got[t], FakeEncoder().encode_query(t)) for t in texts)
    background.close()
