"""Bad questions through the Python API, the CLI and the app's /ask endpoint: an empty one gets
a friendly prompt without running retrieval; any other gets an answer or a clear "not found",
never an exception, and the query that runs is capped at ``settings.max_query_chars``."""

from __future__ import annotations

import io
import json
import random

import pytest
from fakes import free_port

from csto_qa.config import MODES
from csto_qa.engine import EMPTY_QUESTION, Engine

pytestmark = pytest.mark.slow


_rng = random.Random(20240601)
RANDOM_UNICODE = "".join(
    chr(
        _rng.choice(
            [_rng.randrange(0x20, 0x7F), _rng.randrange(0xA0, 0x2FFF), _rng.randrange(0x1F300, 0x1FAFF)]
        )
    )
    for _ in range(100_000)
)
BAD_QUESTIONS = {
    "100k-characters": "When did Uzbekistan suspend its CSTO membership? " * 2000,
    "100k-random-unicode": RANDOM_UNICODE,
    "control-characters": "\x00\x01\x1b[31mWhen was the CSTO\x07 founded?\x7f\x9b\x1b]0;title\x07",
    "emoji": "🛡️🤝 When was the CSTO 🇷🇺 founded? 👍🏽",
    "emoji-only": "🛡️🤝🇷🇺👍🏽",
    "right-to-left": "متى تأسست منظمة معاهدة الأمن الجماعي؟",
    "bidi-override": "\u202eWhen was the CSTO founded?\u202c",
    "hebrew": "מתי נוסד ארגון אמנת הביטחון הקולקטיבי?",
    "only-punctuation": "?!?...,;:—«»()[]{}",
    "only-stop-words": "what is the of and to it is was were",
    "cyrillic-only": "Когда Узбекистан приостановил членство в ОДКБ?",
    "one-letter": "a",
    "html": "<script>alert(1)</script> CSTO?",
}
INVISIBLE = {"zero-width-space": "\u200b\u200b", "byte-order-mark": "\ufeff", "nul": "\x00\x00"}


def check_answer(engine: Engine, answer) -> None:
    """An answer with exact citations, or an abstention that says why; JSON-encodable either way."""
    assert len(answer.query) <= engine.settings.max_query_chars
    if answer.abstained:
        assert answer.message and (answer.passages == [] or answer.folded)  # folded: closest passages
    else:
        assert answer.passages
        for passage in answer.passages:
            assert engine.document(passage.doc).text[passage.start : passage.end] == passage.text
    json.dumps(answer.to_dict(), ensure_ascii=False).encode("utf-8")


# --- Python API ----------------------------------------------------------------------------------


class Forbidden:
    """Stands in for the encoder and the retriever: any use fails the test."""

    def __getattr__(self, name: str):
        raise AssertionError(f"retrieval ran for an empty question ({name})")


@pytest.mark.parametrize("question", ["", " ", "\n\t  \r\n", "\u3000\u00a0 "])
def test_an_empty_question_gets_a_prompt_and_runs_no_retrieval(engine: Engine, question: str) -> None:
    guarded = engine.with_settings()  # a copy: the shared engine is not touched
    guarded.encoder = guarded.retriever = guarded.builder = Forbidden()  # type: ignore[assignment]
    for mode in MODES:
        answer = guarded.ask(question, mode=mode, history=["When was the CSTO founded?"])
        assert answer.abstained and answer.message == EMPTY_QUESTION
        assert answer.passages == [] and answer.timings_ms == {} and answer.query == ""


@pytest.mark.parametrize("question", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_a_question_of_invisible_characters_counts_as_empty(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.abstained and answer.message == EMPTY_QUESTION and not answer.timings_ms


@pytest.mark.parametrize("question", BAD_QUESTIONS.values(), ids=BAD_QUESTIONS.keys())
def test_a_bad_question_gets_an_answer_or_a_clear_not_found(engine: Engine, question: str) -> None:
    for mode in MODES:
        check_answer(engine, engine.ask(question, mode=mode))
    follow_up = engine.ask("and when did it leave?", history=[question, question])
    check_answer(engine, follow_up)


def test_the_long_question_is_capped_not_refused_and_the_reply_says_so(engine: Engine) -> None:
    answer = engine.ask(BAD_QUESTIONS["100k-characters"])
    assert len(answer.query) == engine.settings.max_query_chars
    assert not answer.abstained and "2012" in answer.passages[0].text  # still the right answer
    assert answer.message.startswith("Only the first 4,000 characters of the question were searched")
    assert f"(it has {len(BAD_QUESTIONS['100k-characters']):,})" in answer.message
    assert "were searched" not in engine.ask("When did Uzbekistan suspend its CSTO membership?").message


def test_a_cyrillic_question_finds_the_cyrillic_passage(engine: Engine) -> None:
    answer = engine.ask("Коллективные силы оперативного реагирования", mode="bm25", abstain=False)
    assert any("Коллекти" in p.text for p in answer.passages)


def test_a_lone_surrogate_from_a_json_client_does_not_crash(engine: Engine) -> None:
    question = json.loads('"When was the CSTO founded? \\ud800"')  # valid JSON, not valid UTF-16
    for mode in MODES:
        check_answer(engine, engine.ask(question, mode=mode))


# --- CLI -----------------------------------------------------------------------------------------


@pytest.fixture()
def cli(engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """Run ``csto-qa`` in-process on the shared engine; returns (exit code, stdout, stderr)."""
    from csto_qa import cli as cli_module

    monkeypatch.setattr(cli_module, "open_engine", lambda args: engine)

    def run(*argv: str, stdin: bytes | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        code = cli_module.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.mark.parametrize("question", ["", "   "])
def test_cli_empty_question_prints_the_prompt(cli, question: str) -> None:
    code, out, _ = cli("ask", question)
    assert code == 0 and EMPTY_QUESTION in out
    code, out, _ = cli("ask", question, "--json")
    assert code == 0 and json.loads(out)["message"] == EMPTY_QUESTION and json.loads(out)["abstained"]


@pytest.mark.parametrize(
    "name",
    ["100k-characters", "control-characters", "emoji", "right-to-left", "only-punctuation", "cyrillic-only"],
)
def test_cli_bad_question_prints_an_answer_or_not_found(cli, name: str) -> None:
    code, out, err = cli("ask", BAD_QUESTIONS[name], "--json")
    data = json.loads(out)
    assert code == 0 and err == ""
    assert data["passages"] or (data["abstained"] and data["message"])


def test_cli_stdin_answers_every_non_blank_line(cli) -> None:
    lines = ["When was the CSTO founded?", "", "🛡️", "   ", "Когда основана ОДКБ?", "?!", "x" * 20_000]
    code, out, _ = cli("ask", "--json", stdin="\n".join(lines).encode("utf-8"))
    answers = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(answers) == 5


def test_cli_stdin_that_is_not_utf8_does_not_crash(cli) -> None:
    code, out, _ = cli("ask", "--json", stdin=b"When was the CSTO founded?\nCaf\xe9 \xff\xfe?\n")
    assert code == 0 and len(out.splitlines()) == 2


# --- the app's /ask endpoint ------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_client(engine: Engine):
    from gradio_client import Client

    from csto_qa.app.ui import build_app, launch

    app = build_app(engine)
    url = launch(app, "127.0.0.1", free_port(), block=False)
    yield Client(url, verbose=False)
    app.close()


@pytest.mark.parametrize("question", ["", "  \n "])
def test_app_empty_question_gets_the_prompt(app_client, question: str) -> None:
    result = app_client.predict(question, 5, "hybrid", [], api_name="/ask")
    assert result["abstained"] and result["message"] == EMPTY_QUESTION and result["passages"] == []


@pytest.mark.parametrize(
    "name",
    [
        "100k-characters",
        "control-characters",
        "emoji-only",
        "bidi-override",
        "only-stop-words",
        "cyrillic-only",
        "html",
    ],
)
def test_app_bad_question_gets_an_answer_or_not_found(app_client, engine: Engine, name: str) -> None:
    result = app_client.predict(BAD_QUESTIONS[name], 5, "hybrid", [BAD_QUESTIONS[name]], api_name="/ask")
    assert len(result["query"]) <= engine.settings.max_query_chars
    assert result["passages"] or (result["abstained"] and result["message"])


def test_app_lone_surrogate_does_not_fail_the_request(app_client) -> None:
    import httpx

    # gradio_client cannot even send this; a raw JSON body can ("\\ud800" is valid JSON).
    base = app_client.src.rstrip("/")
    body = b'{"data": ["When was the CSTO founded? \\ud800", 5, "hybrid", []]}'
    with httpx.Client(trust_env=False, timeout=120) as client:
        posted = client.post(
            f"{base}/gradio_api/call/ask", content=body, headers={"content-type": "application/json"}
        )
        events = client.get(f"{base}/gradio_api/call/ask/{posted.json()['event_id']}").text
    assert "event: complete" in events and '"passages"' in events
