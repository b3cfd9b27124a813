"""The app's front door: an ASGI middleware that checks every request before Gradio sees it.

Four rules, each refused with a one-line JSON error and one log line:

* **Host** must be the bound address, ``localhost``/loopback, or a configured name
  (``CSTO_QA_ALLOWED_HOSTS``, comma-separated). A page on ``evil.example`` that rebinds its
  DNS name to 127.0.0.1 sends ``Host: evil.example`` and is refused (DNS rebinding).
* **Origin**: a state-changing request (POST, PUT, PATCH, DELETE) that carries an ``Origin``
  (every browser sends one on cross-site POSTs) must come from the app's own origin. Scripts
  such as ``gradio_client`` send no Origin and are let through.
* **Uploads** are refused: no feature of the app takes a file, so ``/gradio_api/upload``
  would only let any page write into ``/tmp/gradio``.
* **Body size**: at most :data:`MAX_BODY_BYTES`. A question is read whole by Gradio into
  session state before any of our code runs, so it must be capped here: a 20 MB question
  kept about 42 MB per session before this cap. The server (h11) holds a body to its
  ``Content-Length``; a chunked body without one is refused (411), so no body goes uncounted.

Hand-written (60 lines) rather than Starlette's ``TrustedHostMiddleware``: that one checks
Host only, and its error is plain text; we need Host, Origin, uploads and size in one place
with the same error shape.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

ALLOWED_HOSTS_ENV = "CSTO_QA_ALLOWED_HOSTS"
# The engine reads at most 8,000 characters of a question and of each of the 10 earlier
# questions; 1 MiB leaves room for JSON escaping (up to 6 bytes a character) and still
# bounds each request at 1/20 of the 20 MB question that once cost 42 MB a session.
MAX_BODY_BYTES = 1 << 20
UPLOAD_PATHS = ("/gradio_api/upload", "/upload")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

log = logging.getLogger("csto_qa.app")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def host_name(value: str) -> str:
    """The host part of a ``Host`` header or URL netloc, lower case, without port or brackets."""
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:7860
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def allowed_hosts(bound: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Host names the app answers to: loopback, the bound address and configured names.

    Bound to every interface (0.0.0.0 or ::) the machine's own names are added too, so a
    colleague on the LAN can use http://<hostname>:7860; other names still need configuring.
    """
    names = set(LOOPBACK_NAMES)
    names.update(host_name(h) for h in extra if h.strip())
    names.update(host_name(h) for h in os.environ.get(ALLOWED_HOSTS_ENV, "").split(",") if h.strip())
    if bound in ("0.0.0.0", "::", ""):
        names.update({socket.gethostname().lower(), socket.getfqdn().lower()})
    else:
        names.add(host_name(bound))
    return frozenset(names)


class RequestGuard:
    """ASGI middleware enforcing the Host, Origin, upload and body-size rules above."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str], max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.hosts = hosts
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        method = scope.get("method", "GET")
        path = scope.get("path", "")
        host = headers.get("host", "")
        length = headers.get("content-length")
        if length is None and "chunked" in headers.get("transfer-encoding", ""):
            length = "chunked"
        problem = self.check(method, path, host, headers.get("origin"), length)
        if problem is not None:
            status, message = problem
            await self.refuse(scope, receive, send, status, message)
            return
        await self.app(scope, receive, send)

    def check(
        self, method: str, path: str, host: str, origin: str | None, length: str | None
    ) -> tuple[int, str] | None:
        """``(status, message)`` when the request must be refused, else ``None``."""
        if host_name(host) not in self.hosts:
            return 421, (
                f"host {host!r} is not served here; open the app as http://localhost or add the name "
                f"to ${ALLOWED_HOSTS_ENV}"
            )
        if method in STATE_CHANGING and origin is not None:
            parts = urlsplit(origin)
            if origin == "null" or parts.netloc.lower() != host.lower():
                return 403, f"cross-origin {method} from {origin!r} refused; use the app's own page"
        if any(path == p or path.startswith(p + "/") for p in UPLOAD_PATHS):
            return 403, "file uploads are turned off: no feature of this app takes a file"
        if length == "chunked":
            return 411, "send the request with a Content-Length header (chunked bodies are not taken)"
        if length is not None and length.strip().isdigit() and int(length) > self.max_body:
            return 413, f"request body of {int(length):,} bytes is over the limit of {self.max_body:,} bytes"
        return None

    async def refuse(self, scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
        client = scope.get("client") or ("?", 0)
        log.warning(
            "csto-qa: refused %s %s from %s: %s",
            scope.get("method", "WS"),
            scope.get("path"),
            client[0],
            message,
        )
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if status == 413:
            await drain(receive)  # read and drop the body, so the client sees the answer, not a reset
        body = json.dumps({"error": message}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def drain(receive: Receive, limit: int = 64 << 20) -> None:
    """Read and discard the request body (up to ``limit`` bytes), keeping nothing in memory."""
    seen = 0
    while seen <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return
