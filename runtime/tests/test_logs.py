"""Logging: the runtime's records go through `logging`, as JSON lines in the serving app and as
text for commands, at the level MLPLATE_LOG_LEVEL asks for."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from mlplate_runtime import cli
from mlplate_runtime.logs import JsonLines, level
from support import PROJECT_ROOT


def test_a_json_line_carries_time_level_logger_message_and_the_callers_extras():
    record = logging.LogRecord(
        "mlplate_runtime.serving.state", logging.INFO, __file__, 1, "serving %s", ("v3",), None
    )
    record.version = "3"
    entry = json.loads(JsonLines().format(record))
    assert entry["message"] == "serving v3" and entry["level"] == "INFO"
    assert entry["logger"] == "mlplate_runtime.serving.state" and entry["version"] == "3"
    assert entry["time"].endswith("+00:00")


def test_an_access_line_is_split_into_fields():
    args = ("127.0.0.1:5000", "POST", "/predict", "1.1", 422)
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None
    )
    entry = json.loads(JsonLines().format(record))
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/predict", 422)


def test_a_level_that_does_not_exist_is_one_line_for_a_command(monkeypatch):
    monkeypatch.setenv("MLPLATE_LOG_LEVEL", "LOUD")
    with pytest.raises(Exception, match="MLPLATE_LOG_LEVEL='LOUD' is not one of DEBUG, INFO"):
        level()
    result = CliRunner().invoke(cli.app, ["lineage"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: MLPLATE_LOG_LEVEL='LOUD' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL; "
        "fix or unset it"
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_app_logs_json_lines_its_not_ready_reason_and_each_request(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'empty.db'}",  # no champion here
        "PREDICTION_LOG": "off",
    }
    code = "from mlplate_runtime.serving.server import main; main()"
    server = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        assert httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 503
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    entries = [json.loads(line) for line in stderr.splitlines() if line.strip()]  # all JSON
    not_ready = [e for e in entries if e["logger"] == "mlplate_runtime.serving.state"]
    assert not_ready and not_ready[0]["level"] == "WARNING"
    assert "not ready: cannot load the model" in not_ready[0]["message"]
    ready = [e for e in entries if e.get("path") == "/ready"]
    assert ready and ready[0]["status"] == 503 and ready[0]["method"] == "GET"
