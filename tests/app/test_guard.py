"""The request guard (ui_guard.py) by hand: host, origin, upload and body-size rules. The same
rules against the served app are in tests/reliability/test_security.py."""

from __future__ import annotations


def test_the_guard_rules_by_hand() -> None:
    from csto_qa.app.guard import RequestGuard, allowed_hosts, host_name

    assert host_name("LOCALHOST:7860") == "localhost" and host_name("[::1]:7860") == "::1"
    hosts = allowed_hosts("127.0.0.1", ["qa.example.org"])
    guard = RequestGuard(lambda *a: None, hosts, max_body=100)  # type: ignore[arg-type,return-value]
    assert guard.check("GET", "/", "localhost:7860", None, None) is None
    assert guard.check("GET", "/", "qa.example.org", None, None) is None
    assert guard.check("GET", "/", "evil.example:7860", None, None)[0] == 421
    same = "http://127.0.0.1:7860"
    assert guard.check("POST", "/gradio_api/queue/join", "127.0.0.1:7860", same, "50") is None
    assert guard.check("POST", "/gradio_api/queue/join", "127.0.0.1:7860", None, "50") is None  # a script
    assert guard.check("POST", "/x", "127.0.0.1:7860", "http://evil.example", "50")[0] == 403
    assert guard.check("POST", "/x", "127.0.0.1:7860", "null", "50")[0] == 403
    assert guard.check("GET", "/x", "127.0.0.1:7860", "http://evil.example", None) is None  # reads only
    assert guard.check("POST", "/gradio_api/upload", "127.0.0.1:7860", None, "50")[0] == 403
    assert guard.check("POST", "/x", "127.0.0.1:7860", None, "101")[0] == 413
    assert guard.check("POST", "/x", "127.0.0.1:7860", None, "chunked")[0] == 411
