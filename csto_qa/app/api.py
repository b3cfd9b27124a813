"""The app's API: the ``/ask`` function's checks, its API-page description, one-line errors.

Kept apart from the page (csto_qa/app/ui.py) because it patches two Gradio methods of the
Blocks: ``validate_inputs`` (too few values answered ``{"error": null}`` with a 40-line
traceback) and ``get_api_info`` (parameters labelled "1st", "2nd"… with no description).
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any

from csto_qa.errors import QueryError

if TYPE_CHECKING:
    import gradio as gr

    from csto_qa.engine import Answerer

log = logging.getLogger("csto_qa.app")


def ask_json(engine: Answerer, question: str, k: Any = 5, mode: str = "hybrid", history: Any = None) -> dict:
    """``engine.ask`` as the JSON of ``csto-qa ask --json``, with request values checked."""
    if history is None:
        history = []
    if not isinstance(history, list) or not all(isinstance(q, str) for q in history):
        raise QueryError("history must be a list of the earlier questions (strings), oldest first")
    if isinstance(k, float) and k.is_integer():
        k = int(k)  # JSON clients may send 3.0
    return engine.ask(question or "", k=k, mode=mode, history=history).to_dict()


def guard_inputs(demo: gr.Blocks) -> None:
    """A request with too few values gets one clear error and one log line.

    Gradio's own check raises a ValueError, which answers ``{"error": null}`` and prints a
    40-line traceback; this turns it into a message naming the values the endpoint takes.
    """
    import gradio as gr

    check = demo.validate_inputs

    def validate_inputs(block_fn: Any, inputs: list[Any]) -> None:
        try:
            check(block_fn, inputs)
        except ValueError:
            try:
                names = ", ".join(inspect.signature(block_fn.fn).parameters)
            except (TypeError, ValueError):
                names = ", ".join(str(getattr(b, "label", None) or type(b).__name__) for b in block_fn.inputs)
            where = f"/{block_fn.api_name}" if block_fn.api_name else "this event"
            message = f"{where} takes {len(block_fn.inputs)} values ({names}); the request sent {len(inputs)}"
            log.warning("csto-qa: refused request: %s", message)
            raise gr.Error(message, print_exception=False) from None

    demo.validate_inputs = validate_inputs  # type: ignore[method-assign]


def describe_api(demo: gr.Blocks, fn: Any, endpoint: str = "/ask") -> None:
    """The API page names and describes each parameter of ``endpoint`` from ``fn``'s docstring.

    Gradio labels ``gr.api`` parameters "1st", "2nd"… with no description; the docstring's
    ``Args:``/``Returns:`` sections are the one place these are written.
    """
    from gradio.utils import get_function_description

    _, params, returns = get_function_description(fn)
    info = demo.get_api_info

    def get_api_info(all_endpoints: bool = False, page: str | None = None) -> Any:
        result: Any = info(all_endpoints=all_endpoints, page=page)
        for param in result.get("named_endpoints", {}).get(endpoint, {}).get("parameters", []):
            name = param.get("parameter_name", "")
            param["label"] = name or param.get("label", "")
            param.setdefault("python_type", {})["description"] = params.get(name, "")
        for value in result.get("named_endpoints", {}).get(endpoint, {}).get("returns", []):
            value["label"] = "answer"
            value.setdefault("python_type", {})["description"] = " ".join(returns)
        return result

    demo.get_api_info = get_api_info  # type: ignore[method-assign]
