"""The chat app: ``python app.py`` or ``csto-qa app`` serves a Gradio chat over the engine.

The UI only calls ``Engine.ask`` and ``Engine.document``; all retrieval lives in the
engine. The engine is loaded before the server starts, so the first question never
waits for the model. Besides the chat, the app exposes one public API endpoint:

    from gradio_client import Client
    Client("http://127.0.0.1:7860").predict("When was the CSTO founded?", 5, "hybrid", [], api_name="/ask")

which returns the same JSON as ``csto-qa ask --json``. Gradio is imported inside the
functions below so ``csto-qa --help`` stays instant.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from csto_qa.errors import CstoQaError, QueryError

if TYPE_CHECKING:
    import gradio as gr

    from csto_qa.engine import Engine

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_K = 3
MAX_K_UI = 10
CONCURRENCY = 4  # engine.ask is thread-safe: a slow request must not hold up the others
EXAMPLES = (
    "When did Uzbekistan suspend its CSTO membership?",
    "Which countries are members of the CSTO?",
    "When was the Collective Security Treaty signed?",
    "What did the CSTO do in Kazakhstan in January 2022?",
)


# After an answer arrives, scroll the chat so the question and the start of its answer are in
# view (the chat's own autoscroll would jump to the end of the last citation).
SCROLL_TO_ANSWER = """() => {
  setTimeout(() => {
    const wrap = document.querySelector('#cq-chat .panel-wrap, #cq-chat .bubble-wrap');
    if (!wrap) return;
    const rows = wrap.querySelectorAll('.message-row');
    if (!rows.length) return;
    const last = rows[rows.length - 1], prev = rows[rows.length - 2];
    const target = prev && prev.classList.contains('user-row') ? prev : last;
    const top = wrap.scrollTop + target.getBoundingClientRect().top - wrap.getBoundingClientRect().top;
    wrap.scrollTo({ top: Math.max(0, top - 8), behavior: 'smooth' });
  }, 80);
}"""


def ask_json(engine: Engine, question: str, k: int = 5, mode: str = "hybrid", history: Any = None) -> dict:
    """``engine.ask`` as the JSON of ``csto-qa ask --json``, with request values checked."""
    if history is None:
        history = []
    if not isinstance(history, list) or not all(isinstance(q, str) for q in history):
        raise QueryError("history must be a list of the earlier questions (strings), oldest first")
    if isinstance(k, float) and k.is_integer():
        k = int(k)  # JSON clients may send 3.0
    return engine.ask(question or "", k=k, mode=mode, history=history).to_dict()


def _index_summary(engine: Engine) -> str:
    from csto_qa.ui_render import esc

    docs = sorted(engine.stored.documents.values(), key=lambda d: d.title)
    items = "".join(f"<li>{esc(d.title)}</li>" for d in docs)
    return (
        '<div class="cq-about"><div class="cq-label">Sources in the index</div>'
        f'<ul>{items}</ul><div class="cq-muted">{len(engine.stored.chunks):,} passages · '
        f"embeddings: {esc(os.path.basename(engine.encoder.name.rstrip('/')))}</div></div>"
    )


def build_app(engine: Engine) -> gr.Blocks:
    """The chat app over ``engine`` (not launched: see :func:`launch`)."""
    import gradio as gr

    from csto_qa.ui_render import (
        APP_HEADER,
        MODE_LABELS,
        fusion_label,
        render_answer,
        render_notice,
        render_question,
    )

    settings = engine.settings
    fusion = fusion_label(settings.fusion, settings.alpha, settings.rrf_k)

    def lookup(doc_id: str):
        try:
            return engine.document(doc_id)
        except QueryError:
            return None

    def respond(question: str, k: float, mode: str, messages: list[dict], history: list[str]):
        """Show the question at once, then the answer; keep the questions for follow-ups."""
        question = question or ""
        messages = list(messages or [])
        history = list(history or [])
        asked = bool(question.strip())
        if asked:
            messages.append({"role": "user", "content": render_question(question)})
            yield messages, "", messages, history
        try:
            # An empty question gets the engine's friendly prompt (an abstention with a message).
            answer = engine.ask(question, k=int(k), mode=mode, history=history)
            reply = render_answer(answer, lookup, fusion) if asked else render_notice(answer.message)
        except CstoQaError as exc:
            reply = render_notice(f"Sorry, this question could not be answered: {exc}", "error")
        else:
            if asked:
                history.append(question)
        messages.append({"role": "assistant", "content": reply})
        yield messages, "", messages, history

    def pick_example(evt) -> str:
        return str((evt.value or {}).get("text", ""))

    # Gradio finds the event-data parameter by its annotation, which a string (this module
    # uses postponed annotations and imports gradio lazily) would hide.
    pick_example.__annotations__ = {"evt": gr.SelectData, "return": str}

    def api_ask(question: str, k: int = 5, mode: str = "hybrid", history: list[str] | None = None) -> dict:
        """Cited passages answering `question` (same JSON as `csto-qa ask --json`).

        `k`: number of passages (1-50); `mode`: hybrid, bm25 or dense; `history`: the earlier
        questions of the conversation, oldest first, so follow-ups are understood.
        """
        try:
            return ask_json(engine, question, k, mode, history)
        except CstoQaError as exc:
            raise gr.Error(str(exc)) from exc

    with gr.Blocks(title="CSTO questions · csto-qa", analytics_enabled=False, fill_width=True) as demo:
        messages_state = gr.State([])
        history_state = gr.State([])
        gr.HTML(APP_HEADER, elem_id="cq-header", padding=False)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    elem_id="cq-chat",
                    show_label=False,
                    height="calc(100vh - 250px)",
                    min_height=420,
                    layout="panel",
                    autoscroll=False,  # SCROLL_TO_ANSWER shows the top of the new answer instead
                    render_markdown=False,
                    sanitize_html=True,
                    latex_delimiters=[],
                    buttons=[],
                    feedback_options=None,
                    allow_tags=False,
                    group_consecutive_messages=False,
                    placeholder=(
                        '<div class="cq-placeholder"><strong>Ask about the CSTO</strong><br>'
                        "Every answer is quoted from the documents, with its sources.</div>"
                    ),
                    examples=[{"text": q} for q in EXAMPLES],
                )
                box = gr.Textbox(
                    elem_id="cq-input",
                    show_label=False,
                    placeholder="Ask a question about the CSTO, e.g. Who founded it and when?",
                    submit_btn="Ask",
                    autofocus=True,
                    max_length=settings.max_query_chars,
                    lines=1,
                )
            with gr.Column(scale=1, min_width=260, elem_id="cq-side"):
                k_input = gr.Slider(
                    1, MAX_K_UI, value=DEFAULT_K, step=1, label="Passages per answer", elem_id="cq-k"
                )
                mode_input = gr.Radio(
                    [(label, value) for value, label in MODE_LABELS.items()],
                    value="hybrid",
                    label="Retrieval",
                    info="Hybrid fuses keyword (BM25) and meaning (embedding) search.",
                    elem_id="cq-mode",
                )
                clear = gr.Button("New conversation", variant="secondary", elem_id="cq-clear")
                gr.HTML(_index_summary(engine), padding=False)

        chat_io = dict(
            fn=respond,
            inputs=[box, k_input, mode_input, messages_state, history_state],
            outputs=[chatbot, box, messages_state, history_state],
            show_progress="minimal",
        )
        box.submit(**chat_io, api_name="chat", api_visibility="undocumented").then(
            None, js=SCROLL_TO_ANSWER, api_visibility="private"
        )
        chatbot.example_select(pick_example, None, box, api_visibility="private", queue=False).then(
            **chat_io, api_visibility="private"
        ).then(None, js=SCROLL_TO_ANSWER, api_visibility="private")
        reset = dict(fn=lambda: ([], "", [], []), outputs=[chatbot, box, messages_state, history_state])
        clear.click(**reset, api_visibility="private", queue=False)
        chatbot.clear(**reset, api_visibility="private", queue=False)  # the chat's own bin icon
        gr.api(api_ask, api_name="ask")
    demo.queue(default_concurrency_limit=CONCURRENCY)
    return demo


# Sessions whose state gradio keeps in memory (default 10,000). Every API call is a new
# session of ~33 KB, so without a cap the server grows by that much per request.
STATE_SESSIONS = 200


def launch(app: gr.Blocks, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, block: bool = True) -> str:
    """Serve ``app`` with the app's look (theme, CSS); returns the local URL.

    With ``block=False`` the server runs in a background thread (tests, screenshots);
    stop it with ``app.close()``.
    """
    import gradio as gr

    from csto_qa.ui_render import APP_CSS

    # Gradio's own queue analytics trip a pandas deprecation warning on every request.
    warnings.filterwarnings("ignore", module="gradio.queueing")
    theme = gr.themes.Soft(
        primary_hue="indigo",
        neutral_hue="slate",
        font=(
            gr.themes.LocalFont("IBM Plex Sans", weights=(400, 700)),
            "ui-sans-serif",
            "system-ui",
            "sans-serif",
        ),
    )
    try:
        _, url, _ = app.launch(
            server_name=host,
            server_port=port,
            prevent_thread_lock=True,
            quiet=True,
            share=False,
            show_error=False,
            footer_links=["api"],
            theme=theme,
            css=APP_CSS,
            mcp_server=False,
            state_session_capacity=STATE_SESSIONS,
        )
    except OSError as exc:
        raise CstoQaError(
            f"cannot listen on {host}:{port} ({exc}); choose another port with --port"
        ) from None
    if block:
        print(f"csto-qa: ready on {url}  (Ctrl+C stops it)", flush=True)
        app.block_thread()
    return url


def check_port(host: str, port: int) -> None:
    """Raise a clear error when ``host:port`` cannot be listened on."""
    import socket

    if not 0 < port < 65536:
        raise CstoQaError(f"--port {port} is not a port number (1-65535)")
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:
        raise CstoQaError(
            f"cannot listen on {host}:{port} ({exc.strerror}); choose another port with --port"
        ) from None


def run(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, open_engine: Callable[[], Engine] | None = None
) -> int:
    """``csto-qa app``: load the engine first (``open_engine``, default ``Engine.open()``), then
    serve the chat until Ctrl+C."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if open_engine is None:
        from csto_qa.engine import Engine

        open_engine = Engine.open
    check_port(host, port)  # fail now, not after loading the model
    started = time.perf_counter()
    print("csto-qa: loading the index and the embedding model…", file=sys.stderr, flush=True)
    engine = open_engine()
    app = build_app(engine)
    print(f"csto-qa: engine loaded in {time.perf_counter() - started:.1f} s; starting the server", flush=True)
    launch(app, host, port, block=True)
    return 0
