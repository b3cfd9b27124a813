"""The chat app: ``python app.py`` or ``csto-qa app`` serves a Gradio chat over the engine.

The UI only calls ``Engine.ask`` and ``Engine.document``; all retrieval lives in the
engine. The engine is loaded, and one question answered, before the server starts, so the
first question never waits for the model. The parts:

* this module: the page (Blocks), its events, and :func:`launch`;
* :mod:`csto_qa.app.render`: answers and citation cards as escaped HTML;
* :mod:`csto_qa.app.document`: the whole-document page (``/cq/doc``);
* :mod:`csto_qa.app.session`: conversations kept in the browser, like/dislike to a file;
* :mod:`csto_qa.app.guard`: Host, Origin, upload and body-size checks on every request;
* ``assets/app.css`` and ``app.js``: the look, and what runs in the page (citation jumps,
  copy, character count, "Searching…").

Besides the chat, the app exposes one public API endpoint:

    from gradio_client import Client
    Client("http://127.0.0.1:7860").predict("When was the CSTO founded?", 5, "hybrid", [], api_name="/ask")

which returns the same JSON as ``csto-qa ask --json``. Gradio is imported inside the
functions below so ``csto-qa --help`` stays instant.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csto_qa.errors import CstoQaError, QueryError

if TYPE_CHECKING:
    import gradio as gr

    from csto_qa.engine import Answerer
    from csto_qa.records import Document

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
# view (the chat's own autoscroll would jump to the end of the last citation), and clear the
# "searching…" line that app.js showed at Enter.
SCROLL_TO_ANSWER = """() => {
  if (window.cqPending) window.cqPending("");
  setTimeout(() => {
    const wrap = document.querySelector('#cq-chat .panel-wrap, #cq-chat .bubble-wrap');
    if (!wrap) return;
    const rows = wrap.querySelectorAll('.message-row');
    if (!rows.length) return;
    const last = rows[rows.length - 1], prev = rows[rows.length - 2];
    const target = prev && prev.classList.contains('user-row') ? prev : last;
    if (wrap.scrollHeight > wrap.clientHeight + 4) {
      const top = wrap.scrollTop + target.getBoundingClientRect().top - wrap.getBoundingClientRect().top;
      wrap.scrollTo({ top: Math.max(0, top - 8), behavior: 'smooth' });
    } else {
      target.scrollIntoView({ behavior: 'smooth', block: 'start' });  // phone: the page scrolls
    }
  }, 80);
}"""
ASSETS = Path(__file__).resolve().parent / "assets"
log = logging.getLogger("csto_qa.app")


def asset(name: str) -> str:
    """The text of ``csto_qa/app/assets/<name>`` (the page's CSS and script)."""
    return (ASSETS / name).read_text(encoding="utf-8")


def too_long_message(length: int, limit: int) -> str:
    """What the user sees when the question is over the limit (it is then not answered)."""
    return (
        f"Your question is {length:,} characters long; the limit is {limit:,}. It was not sent: "
        f"shorten it by {length - limit:,} characters (keep the question itself) and press Enter again."
    )


def _index_summary(engine: Answerer) -> str:
    from csto_qa.app.render import esc

    docs = sorted(engine.stored.documents.values(), key=lambda d: d.title)
    items = "".join(f"<li>{esc(d.title)}</li>" for d in docs)
    return (
        '<div class="cq-about"><div class="cq-label">Sources in the index</div>'
        f'<ul>{items}</ul><div class="cq-muted">{len(engine.stored.chunks):,} passages · '
        f"embeddings: {esc(os.path.basename(engine.encoder.name.rstrip('/')))}</div></div>"
    )


# A question with words the documents never use ("got", "nowadays"): the first such question
# loads the typo check's vocabulary and wordfreq's English list (0.33 s here), once.
WARM_UNSEEN = "How many members has the CSTO got nowadays?"


def warm_up(engine: Answerer) -> None:
    """Answer two questions before serving, so the first user's answer is as quick as the rest
    (measured: the first question after a start took about 0.8 s, later ones about 0.1 s; the
    first with a word the documents never use 0.33 s more)."""
    try:
        engine.ask(EXAMPLES[0], k=DEFAULT_K)
        engine.ask(WARM_UNSEEN, k=DEFAULT_K)
    except CstoQaError:
        pass  # an empty or broken index shows its own message on the first real question


def build_app(engine: Answerer, warm: bool = True) -> gr.Blocks:
    """The chat app over ``engine`` (not launched: see :func:`launch`)."""
    import gradio as gr

    from csto_qa.app import session as ui_session
    from csto_qa.app.api import ask_json, describe_api, guard_inputs
    from csto_qa.app.document import document_endpoint
    from csto_qa.app.render import (
        APP_HEADER,
        CONFIDENCE_HELP,
        MODE_LABELS,
        esc,
        fusion_label,
        render_answer,
        render_notice,
        render_question,
    )

    settings = engine.settings
    limit = settings.max_query_chars
    fusion = fusion_label(settings.fusion, settings.alpha, settings.rrf_k)
    if warm:
        warm_up(engine)
    folder = getattr(engine.stored, "folder", None)

    def lookup(doc_id: str) -> Document | None:
        try:
            return engine.document(doc_id)
        except (QueryError, TypeError):
            return None

    def respond(
        question: str,
        k: float,
        mode: str,
        messages: list[dict],
        history: list[str],
        turns: list,
        alone: bool = False,
    ) -> Iterator[tuple[Any, ...]]:
        """Show the question at once, then the answer; keep the questions for follow-ups.

        An empty question changes nothing. An over-long one is not answered (and not kept):
        the message says by how much to shorten it, and the text stays in the box.
        ``turns`` runs beside ``messages``: what each answer showed (for like/dislike).
        ``alone`` asks without the earlier questions ("Ask on its own" under a rewritten
        query); the question still joins the conversation for the follow-ups after it.
        """
        question = question if isinstance(question, str) else ""
        skip = gr.skip()
        if not question.strip():
            yield skip, skip, "", skip, skip, skip
            return
        if len(question) > limit:
            log.info("csto-qa: question of %d characters refused (limit %d)", len(question), limit)
            notice = render_notice(too_long_message(len(question), limit), "error")
            yield skip, skip, notice, skip, skip, skip
            return
        messages = list(messages or [])
        history = list(history or [])
        turns = list(turns or [])
        messages.append({"role": "user", "content": render_question(question)})
        turns.append(None)
        yield messages, "", "", messages, history, turns
        k_value: Any = int(k) if isinstance(k, float) and k.is_integer() else k  # the slider sends 3.0
        try:
            earlier = [] if alone else history
            answer = engine.ask(question, k=k_value, mode=mode, history=earlier)
            reply = render_answer(answer, lookup, fusion, followup=bool(earlier))
            index_notice = getattr(engine, "notice", "")  # a LiveEngine while it rebuilds (live.py)
            if index_notice:
                reply = render_notice(index_notice, "info") + reply
        except CstoQaError as exc:
            reply = render_notice(f"Sorry, this question could not be answered: {exc}", "error")
            turns.append(None)
        else:
            history.append(question)
            turns.append(ui_session.turn(answer, k_value))
        messages.append({"role": "assistant", "content": reply})
        yield messages, "", "", messages, history, turns

    def respond_alone(
        question: str, k: float, mode: str, messages: list[dict], history: list[str], turns: list
    ) -> Iterator[tuple[Any, ...]]:
        """:func:`respond` without the conversation's earlier questions."""
        yield from respond(question, k, mode, messages, history, turns, alone=True)

    def keep(messages: list, history: list, turns: list, store: Any, conv_id: str) -> tuple[Any, str, Any]:
        """Save the conversation in the browser after each answer."""
        store, conv_id = ui_session.save(store, conv_id or "", messages or [], history or [], turns or [])
        return store, conv_id, gr.update(choices=ui_session.choices(store), value=conv_id or None)

    def restore(store: Any, conv_id: str | None = None) -> tuple[Any, ...]:
        """Show a saved conversation (the newest on page load)."""
        saved = ui_session.conversations(store)
        conv = ui_session.find(store, conv_id) if conv_id else (saved[0] if saved else None)
        listing = gr.update(choices=ui_session.choices(store), value=conv["id"] if conv else None)
        if conv is None:
            return [], [], [], [], "", listing
        m, h, t = conv["messages"], conv["history"], conv["turns"]
        return m, m, h, t, conv["id"], listing

    def forget() -> tuple[Any, ...]:
        store = ui_session.empty_store()
        return store, [], [], [], [], "", gr.update(choices=[], value=None), ""

    feedback_file = ui_session.feedback_path(folder) if folder is not None else None

    def rate(turns: list, data: gr.LikeData) -> None:
        index = data.index if isinstance(data.index, int) else data.index[0]
        shown = turns[index] if isinstance(turns, list) and 0 <= index < len(turns) else None
        if not shown or feedback_file is None:
            return
        rating = "like" if data.liked is True else "dislike" if data.liked is False else str(data.liked)
        ui_session.record_feedback(feedback_file, shown, rating)
        log.info("csto-qa: %s saved to %s", rating, feedback_file)

    rate.__annotations__ = {"turns": list, "data": gr.LikeData, "return": None}

    def api_ask(question: str, k: int = 5, mode: str = "hybrid", history: list[str] | None = None) -> dict:
        """Cited passages answering `question` (same JSON as `csto-qa ask --json`).

        Args:
            question: the question, in English (at most 4,000 characters are searched).
            k: number of passages to return, 1 to 50.
            mode: "hybrid" (BM25 + embeddings), "bm25" or "dense".
            history: the earlier questions of the conversation, oldest first (for follow-ups).

        Returns:
            The answer: question, query, mode, abstained, confidence, message and passages
            (each with doc, title, section, start, end, text, highlight and scores).
        """
        try:
            return ask_json(engine, question, k, mode, history)
        except CstoQaError as exc:
            log.warning("csto-qa: /ask refused: %s", exc)
            raise gr.Error(str(exc), print_exception=False) from None

    api_ask.__annotations__ = {
        "question": str,
        "k": int,
        "mode": str,
        "history": list[str] | None,
        "return": dict,
    }

    with gr.Blocks(title="CSTO questions · csto-qa", analytics_enabled=False, fill_width=True) as demo:
        messages_state = gr.State([])
        history_state = gr.State([])
        turns_state = gr.State([])
        conv_state = gr.State("")
        store = gr.BrowserState(
            ui_session.empty_store(),
            storage_key="csto-qa-conversations",
            secret=ui_session.store_secret(folder),
        )
        gr.HTML(APP_HEADER, elem_id="cq-header", padding=False)
        with gr.Row(equal_height=False, elem_id="cq-layout"):
            with gr.Column(scale=3, min_width=320, elem_id="cq-main"):
                chatbot = gr.Chatbot(
                    elem_id="cq-chat",
                    show_label=False,
                    label="Conversation",
                    height="calc(100vh - 300px)",
                    min_height=380,
                    layout="panel",
                    autoscroll=False,  # SCROLL_TO_ANSWER shows the top of the new answer instead
                    render_markdown=False,
                    sanitize_html=True,
                    latex_delimiters=[],
                    buttons=[],  # copy is the answer's own "Copy answer" (plain text, not HTML)
                    feedback_options=("Like", "Dislike"),
                    allow_tags=False,
                    group_consecutive_messages=False,
                    placeholder=(
                        '<div class="cq-placeholder"><strong>Ask about the CSTO</strong><br>'
                        "Every answer is quoted from the documents, with its sources.</div>"
                    ),
                )
                box = gr.Textbox(
                    elem_id="cq-input",
                    show_label=False,
                    label="Question",
                    placeholder="Ask a question about the CSTO, e.g. Who founded it and when?",
                    submit_btn="Ask",
                    autofocus=True,
                    lines=1,
                    max_lines=6,
                )
                gr.HTML(
                    f'<div class="cq-count" data-limit="{limit}" aria-live="polite" hidden></div>'
                    '<div id="cq-pending" class="cq-pending" role="status" hidden></div>',
                    elem_id="cq-count",
                    padding=False,
                )
                status = gr.HTML("", elem_id="cq-status", padding=False)
                # Clicked by app.js for "Ask on its own": hidden by CSS (display: none, so out of
                # the tab order and the accessibility tree) but in the DOM, unlike visible=False.
                alone_button = gr.Button("Ask on its own", elem_id="cq-alone-go", elem_classes="cq-hidden")
                with gr.Row(elem_id="cq-examples"):
                    example_buttons = [
                        gr.Button(q, size="sm", variant="secondary", elem_classes="cq-example")
                        for q in EXAMPLES
                    ]
            with gr.Column(scale=1, min_width=260, elem_id="cq-side"):
                with gr.Accordion("Settings", open=True, elem_id="cq-settings"):
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
                    saved_list = gr.Dropdown(
                        [],
                        value=None,
                        label="Saved conversations",
                        info="Kept in this browser across reloads.",
                        elem_id="cq-saved",
                        interactive=True,
                    )
                    forget_button = gr.Button(
                        "Delete saved conversations", variant="secondary", size="sm", elem_id="cq-forget"
                    )
                    gr.HTML(
                        f'<div class="cq-about"><p class="cq-muted">{esc(CONFIDENCE_HELP)}</p>'
                        '<p class="cq-muted">The documents are in English; questions in English find '
                        "the best passages.</p></div>",
                        padding=False,
                    )
                gr.HTML(_index_summary(engine), padding=False, elem_id="cq-sources")

        chat_io: dict[str, Any] = dict(
            fn=respond,
            inputs=[box, k_input, mode_input, messages_state, history_state, turns_state],
            outputs=[chatbot, box, status, messages_state, history_state, turns_state],
            show_progress="hidden",  # app.js shows "Searching…" at once; the timer hid "Ask"
        )
        save_io: dict[str, Any] = dict(
            fn=keep,
            inputs=[messages_state, history_state, turns_state, store, conv_state],
            outputs=[store, conv_state, saved_list],
            api_visibility="private",
            queue=False,
        )
        box.submit(**chat_io, api_name="chat", api_visibility="undocumented").then(
            None, js=SCROLL_TO_ANSWER, api_visibility="private"
        ).then(**save_io)
        alone_button.click(
            **{**chat_io, "fn": respond_alone}, api_name="chat_alone", api_visibility="undocumented"
        ).then(None, js=SCROLL_TO_ANSWER, api_visibility="private").then(**save_io)
        for button, question in zip(example_buttons, EXAMPLES, strict=True):
            button.click(lambda q=question: q, None, box, api_visibility="private", queue=False).then(
                **chat_io, api_visibility="private"
            ).then(None, js=SCROLL_TO_ANSWER, api_visibility="private").then(**save_io)
        shown = [chatbot, messages_state, history_state, turns_state, conv_state, saved_list]
        demo.load(restore, [store], shown, api_visibility="private", queue=False)
        saved_list.input(restore, [store, saved_list], shown, api_visibility="private", queue=False)
        reset: dict[str, Any] = dict(
            fn=lambda: ([], "", "", [], [], [], "", None),
            outputs=[chatbot, box, status, *shown[1:]],
        )
        clear.click(**reset, api_visibility="private", queue=False)
        chatbot.clear(**reset, api_visibility="private", queue=False)  # the chat's own bin icon
        forget_button.click(
            forget,
            None,
            [store, chatbot, messages_state, history_state, turns_state, conv_state, saved_list, status],
            api_visibility="private",
            queue=False,
        )
        chatbot.like(rate, [turns_state], None, api_visibility="private", queue=False)
        gr.api(api_ask, api_name="ask")
    demo.queue(default_concurrency_limit=CONCURRENCY)
    guard_inputs(demo)
    describe_api(demo, api_ask)
    from starlette.routing import Route

    # Read by launch(): served before Gradio's own routes.
    demo.cq_routes = [Route("/cq/doc", document_endpoint(lookup, asset("app.css")), methods=["GET"])]
    return demo


# Sessions whose state gradio keeps in memory (default 10,000). Every API call is a new
# session of ~33 KB, so without a cap the server grows by that much per request.
STATE_SESSIONS = 200


def launch(
    app: gr.Blocks,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    block: bool = True,
    allowed_hosts: Iterable[str] = (),
) -> str:
    """Serve ``app`` with the app's look (theme, CSS, script) behind the request guard
    (:mod:`csto_qa.app.guard`: Host, Origin, no uploads, body size); returns the local URL.

    ``allowed_hosts`` adds host names the app answers to (besides loopback and ``host``; also
    ``$CSTO_QA_ALLOWED_HOSTS``). With ``block=False`` the server runs in a background thread
    (tests, screenshots); stop it with ``app.close()``.
    """
    import gradio as gr
    from starlette.middleware import Middleware

    from csto_qa.app import guard as ui_guard
    from csto_qa.app.guard import RequestGuard

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
            css=asset("app.css"),
            head=f"<script>{asset('app.js')}</script>",
            mcp_server=False,
            state_session_capacity=STATE_SESSIONS,
            max_file_size=0,
            app_kwargs={
                "middleware": [Middleware(RequestGuard, hosts=ui_guard.allowed_hosts(host, allowed_hosts))],
                "routes": list(getattr(app, "cq_routes", [])),
            },
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
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, open_engine: Callable[[], Answerer] | None = None
) -> int:
    """``csto-qa app``: load the engine first (``open_engine``, default ``Engine.open()``), then
    serve the chat until Ctrl+C."""
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
