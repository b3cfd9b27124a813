"""The app's entry points (ui.py): start-up order, the port check, options, lazy gradio."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import scripted_engine

ROOT = Path(__file__).resolve().parents[2]


def test_run_loads_the_engine_before_serving(monkeypatch) -> None:
    import csto_qa.app.ui
    import csto_qa.cli

    calls = []
    engine = scripted_engine(lambda *a, **k: None)
    monkeypatch.setattr(csto_qa.app.ui, "check_port", lambda host, port: calls.append("port"))
    monkeypatch.setattr(csto_qa.cli, "open_live_engine", lambda args: calls.append("open live") or engine)
    monkeypatch.setattr(csto_qa.app.ui, "build_app", lambda e: calls.append("build") or "app")
    monkeypatch.setattr(
        csto_qa.app.ui, "launch", lambda app, host, port, block: calls.append((app, host, port))
    )
    assert csto_qa.cli.main(["app", "--port", "7999"]) == 0
    assert calls == ["port", "open live", "build", ("app", "127.0.0.1", 7999)]


def test_a_busy_port_is_a_clear_error_before_the_model_loads() -> None:
    from csto_qa.app.ui import check_port
    from csto_qa.errors import CstoQaError

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CstoQaError, match=f"127.0.0.1:{port}.*--port"):
            check_port("127.0.0.1", port)
    with pytest.raises(CstoQaError, match="not a port"):
        check_port("127.0.0.1", 70000)


def test_app_options_default_to_loopback_port_7860() -> None:
    from csto_qa.cli import app_parser

    parser = app_parser()
    args = parser.parse_args([])
    assert (args.host, args.port) == ("127.0.0.1", 7860)
    assert {"index_dir", "corpus_dir", "model"} <= set(vars(args))
    assert parser.parse_args(["--host", "0.0.0.0", "--port", "8000"]).port == 8000


def test_importing_the_ui_module_does_not_import_gradio() -> None:
    code = "import sys, csto_qa.app.ui; sys.exit('gradio' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_app_py_help_works() -> None:
    result = subprocess.run([sys.executable, "app.py", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and "--host" in result.stdout and "--port" in result.stdout
