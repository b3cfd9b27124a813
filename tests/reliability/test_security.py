"""Security: no pickle/eval/exec in the package, an index of plain data whose loading never runs
code, an app bound to loopback that cannot be made to read a file outside the index, and user
input and corpus text escaped wherever they are shown."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import numpy as np
import pytest
from fakes import FakeEncoder, free_port

from csto_qa.errors import IndexCorruptError, QueryError
from csto_qa.index.build import build, quiet
from csto_qa.index.storage import INDEX_FILES, load_index
from csto_qa.records import Answer, Document, Passage, SourceRef

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "csto_qa"
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle", "joblib"}
UNSAFE_CALLS = {"eval", "exec", "compile", "execfile"}
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&"


# --- the source ---------------------------------------------------------------------------------


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            yield node, name, func


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_pickle_eval_or_exec_in_the_package(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not {a.name.split(".")[0] for a in node.names} & UNSAFE_MODULES, (path, node.lineno)
        if isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] not in UNSAFE_MODULES, (path, node.lineno)
    for node, name, func in _calls(tree):
        where = f"{path.name}:{node.lineno}"
        assert not (isinstance(func, ast.Name) and name in UNSAFE_CALLS), f"{name}() at {where}"
        keywords = {k.arg: k.value for k in node.keywords}
        for flag in ("allow_pickle", "trust_remote_code", "shell"):  # np.load is safe unless told
            value = keywords.get(flag)
            assert not (isinstance(value, ast.Constant) and value.value is True), f"{flag}=True at {where}"
        if name == "load" and isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "torch":
            value = keywords.get("weights_only")
            assert isinstance(value, ast.Constant) and value.value is True, f"torch.load at {where}"


def test_the_source_never_mentions_pickle_outside_saying_it_is_not_used() -> None:
    for path in PACKAGE.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            lowered = line.lower()
            if "pickle" in lowered:
                assert (
                    "allow_pickle=false" in lowered
                    or "never" in lowered
                    or "nothing" in lowered
                    or "no pickle" in lowered
                ), f"{path.name}:{number}: {line.strip()}"


# --- the index ----------------------------------------------------------------------------------


@pytest.fixture()
def small_index(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "The CSTO was founded in 2002. Its members hold yearly exercises.\n" * 20, encoding="utf-8"
    )
    build(corpus, tmp_path / "index", FakeEncoder(), report=quiet, progress=False)
    return tmp_path / "index"


def check_plain_data(index: Path) -> None:
    assert sorted(p.name for p in index.iterdir()) == sorted(INDEX_FILES)
    for path in index.iterdir():
        if path.suffix == ".json":
            assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict)
        elif path.suffix == ".jsonl":
            assert all(
                isinstance(json.loads(line), dict) for line in path.read_text(encoding="utf-8").splitlines()
            )
        elif path.suffix == ".npy":
            assert np.load(path, allow_pickle=False).dtype.kind in "fiu"
        elif path.name == ".csto-qa-index":  # the ownership marker: a JSON note, no code
            assert json.loads(path.read_text(encoding="utf-8"))["kind"] == "csto-qa index"
        else:
            assert path.name == "dense.faiss" and path.read_bytes()[:4] in (b"IxFI", b"IHNf")


def test_a_built_index_holds_only_the_expected_plain_data_files(small_index: Path) -> None:
    check_plain_data(small_index)


@pytest.mark.slow
def test_the_real_index_holds_only_the_expected_plain_data_files(index_dir: Path) -> None:
    check_plain_data(index_dir)


class Payload:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize(
    "target", ["sentence_vectors.npy", "bm25_data.npy", "bm25_indices.npy", "bm25_indptr.npy", "dense.faiss"]
)
def test_loading_a_planted_pickle_never_runs_it(small_index: Path, tmp_path: Path, target: str) -> None:
    import pickle  # noqa: S403 - only to plant the payload the loader must refuse

    marker = tmp_path / "code-ran"
    path = small_index / target
    if path.suffix == ".npy":
        np.save(path, np.array([Payload(marker)], dtype=object), allow_pickle=True)
    else:
        path.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(IndexCorruptError, match=target):
        load_index(small_index)
    assert not marker.exists()


# --- the engine and the app -------------------------------------------------------------------

PATHS = [
    "../../etc/passwd",
    "/etc/passwd",
    "..\\..\\windows\\win.ini",
    "csto-wikipedia/../../../etc/passwd",
    "file:///etc/passwd",
]


@pytest.mark.slow
@pytest.mark.parametrize("doc_id", PATHS)
def test_a_document_id_cannot_reach_a_file(engine, doc_id: str) -> None:
    with pytest.raises(QueryError):
        engine.document(doc_id)


def test_app_listens_on_loopback_by_default() -> None:
    from benchmarks import loadtest
    from csto_qa.app import ui
    from csto_qa.cli import app_parser

    parser = app_parser()
    assert parser.parse_args([]).host == "127.0.0.1" == ui.DEFAULT_HOST
    assert ui.launch.__defaults__[0] == "127.0.0.1"
    with pytest.raises(Exception, match="only runs against this machine"):
        loadtest.check_loopback("http://192.0.2.1:7860")


@pytest.fixture(scope="module")
def app_url(engine):
    from csto_qa.app.ui import build_app, launch

    app = build_app(engine)
    yield launch(app, "127.0.0.1", free_port(), block=False)
    app.close()


@pytest.mark.slow
def test_no_url_of_the_app_serves_a_file_outside_it(app_url: str, index_dir: Path) -> None:
    import httpx

    secret = index_dir / "documents.jsonl"  # a file the server process can read
    targets = ["/etc/passwd", "../../../../etc/passwd", str(secret), os.path.relpath(secret)]
    with httpx.Client(base_url=app_url, trust_env=False, timeout=30) as client:
        for target in targets:
            for route in ("/gradio_api/file=", "/file=", "/gradio_api/file/", "/static/", "/assets/"):
                response = client.get(route + target)
                body = response.text
                assert "root:x:0:0" not in body and '"doc_id"' not in body, (
                    route,
                    target,
                    response.status_code,
                )


@pytest.mark.slow
def test_a_path_as_a_question_is_just_a_question(app_url: str) -> None:
    from gradio_client import Client

    result = Client(app_url, verbose=False).predict("../../etc/passwd", 5, "hybrid", [], api_name="/ask")
    assert "root:x:0:0" not in json.dumps(result)


# --- escaping -----------------------------------------------------------------------------------


def hostile_answer() -> tuple[Answer, Document]:
    text = f"Intro. The CSTO {HOSTILE} was founded in 2002. Outro."
    start, end = 7, len(text) - 7
    document = Document(doc_id=f"evil{HOSTILE}", title=f"Title {HOSTILE}", text=text)
    passage = Passage(
        rank=1,
        doc=document.doc_id,
        title=document.title,
        section=f"Section {HOSTILE}",
        start=start,
        end=end,
        text=text[start:end],
        highlight=text[start:end],
        highlight_start=start,
        highlight_end=end,
        score=1.0,
        bm25_score=1.0,
        bm25_rank=1,
        dense_score=0.9,
        dense_rank=1,
        sources=[document.doc_id, f"copy{HOSTILE}"],
        matched_terms=[f"term{HOSTILE}"],
        copies=[SourceRef(f"copy{HOSTILE}", f"Copy {HOSTILE}", f"S {HOSTILE}", 0, 5)],
    )
    answer = Answer(
        f"Question {HOSTILE}", f"Query {HOSTILE}", "hybrid", False, [passage], 0.9, f"Note {HOSTILE}"
    )
    return answer, document


def test_every_user_and_corpus_string_is_escaped_in_the_app_html() -> None:
    from csto_qa.app.render import render_answer, render_notice, render_question

    answer, document = hostile_answer()
    abstained = Answer(f"Q {HOSTILE}", f"Query {HOSTILE}", "hybrid", True, [], 0.1, f"Message {HOSTILE}")
    for html in (
        render_answer(answer, lambda doc_id: document if doc_id == document.doc_id else None),
        render_answer(abstained, lambda doc_id: None),
        render_question(answer.question),
        render_notice(f"Error {HOSTILE}", "error"),
    ):
        assert "<script" not in html and "<img" not in html and "onerror=alert(2)>" not in html
        assert "&lt;script&gt;" in html


def test_a_lookup_outside_the_index_is_never_a_file_read() -> None:
    from csto_qa.app.render import render_answer

    answer, _ = hostile_answer()
    answer.passages[0].doc = "../../../../etc/passwd"
    html = render_answer(answer, lambda doc_id: None)
    assert "root:x:0:0" not in html and "not in the index" in html


def test_the_terminal_output_carries_no_control_sequences() -> None:
    from csto_qa.cli import format_answer

    answer, _ = hostile_answer()
    escape = "\x1b]0;owned\x07\x1b[2J\x9b31m\u202e"
    answer.question += escape
    answer.passages[0].text += escape
    answer.passages[0].highlight += escape
    answer.passages[0].title += escape
    shown = format_answer(answer)
    assert not any(ch in shown for ch in "\x1b\x07\x9b\u202e")


# --- the web app's front door (csto_qa/app/guard.py) ---------------------------------------------


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")
def test_the_app_refuses_other_hosts_cross_origin_posts_and_uploads(app_url: str) -> None:
    import httpx

    with httpx.Client(base_url=app_url, trust_env=False, timeout=30) as client:
        assert client.get("/").status_code == 200
        rebound = client.get("/", headers={"Host": "evil.example"})
        assert rebound.status_code == 421 and "evil.example" in rebound.json()["error"]
        body = {"data": ["When was the CSTO founded?", 3, "hybrid", []]}
        cross = client.post("/gradio_api/call/ask", json=body, headers={"Origin": "http://evil.example"})
        assert cross.status_code == 403 and "cross-origin" in cross.json()["error"]
        own = client.post("/gradio_api/call/ask", json=body, headers={"Origin": app_url.rstrip("/")})
        assert own.status_code == 200 and "event_id" in own.json()
        files = {"files": ("x.txt", b"planted", "text/plain")}
        upload = client.post("/gradio_api/upload", files=files)
        assert upload.status_code == 403 and "uploads are turned off" in upload.json()["error"]


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")
def test_twenty_five_20_mb_questions_leave_memory_flat(app_url: str) -> None:
    """The server runs in this process, so its memory is this process's resident set."""
    import httpx

    from csto_qa.app.guard import MAX_BODY_BYTES

    question = "When was the CSTO founded? " * (20_000_000 // 27)  # about 20 MB, made once
    body = json.dumps({"data": [question, 3, "hybrid", []]}).encode()
    headers = {"content-type": "application/json"}
    with httpx.Client(base_url=app_url, trust_env=False, timeout=120) as client:
        client.post("/gradio_api/call/ask", content=body, headers=headers)  # allocator warm-up
        before = _rss_bytes()
        for _ in range(25):
            response = client.post("/gradio_api/call/ask", content=body, headers=headers)
            assert response.status_code == 413
            assert f"over the limit of {MAX_BODY_BYTES:,} bytes" in response.json()["error"]
        growth = _rss_bytes() - before
    # Before the cap each such request kept ~42 MB (25 requests: 1.07 GB); 50 MB is the
    # bound for all 25 together, i.e. no request is kept.
    assert growth < 50 * 2**20, f"memory grew by {growth / 2**20:.0f} MB over 25 requests"


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")
def test_a_bad_api_request_is_one_clear_error_and_one_log_line(app_url: str, caplog) -> None:
    import logging

    import httpx

    caplog.set_level(logging.INFO)
    cases = [
        ([["not a question"], 3], "/ask takes 4 values (question, k, mode, history); the request sent 2"),
        (["When was the CSTO founded?", "three", "hybrid", []], "k='three' must be a whole number"),
        (["When was the CSTO founded?", 3, "fast", []], "mode 'fast' is not one of hybrid, bm25, dense"),
        (["When was the CSTO founded?", 3, "hybrid", {"a": 1}], "history must be a list"),
    ]
    with httpx.Client(base_url=app_url, trust_env=False, timeout=60) as client:
        for data, expected in cases:
            caplog.clear()
            posted = client.post("/gradio_api/call/ask", json={"data": data})
            events = client.get(f"/gradio_api/call/ask/{posted.json()['event_id']}").text
            assert "event: error" in events and expected in events, events
            assert '"error": null' not in events
            lines = [r for r in caplog.records if r.name == "csto_qa.app"]
            assert len(lines) == 1 and expected in lines[0].getMessage()
            assert not any("Traceback" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_the_whole_document_page_shows_only_documents_of_the_index(app_url: str, index_dir: Path) -> None:
    import httpx

    with httpx.Client(base_url=app_url, trust_env=False, timeout=30) as client:
        for doc in ("/etc/passwd", "../../../../etc/passwd", str(index_dir / "documents.jsonl"), "<script>"):
            response = client.get("/cq/doc", params={"doc": doc, "start": "0", "end": "10"})
            assert response.status_code == 404 and "root:x:0:0" not in response.text
            assert "<script>" not in response.text
        page = client.get("/cq/doc", params={"doc": "csto-wikipedia", "start": "-5", "end": "x" * 50})
        assert page.status_code == 200 and 'id="cq-passage"' not in page.text  # bad offsets: unmarked
        assert "default-src 'none'" in page.headers["content-security-policy"]
