"""Alerts reach a webhook (a local HTTP server here) and never change a command's outcome."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from typer.testing import CliRunner

from mlplate_runtime import cli
from mlplate_runtime.alerts import send_alert
from mlplate_runtime.models import registry
from mlplate_runtime.monitoring import job as monitoring_job
from support import PROJECT_ROOT

PARAMS = str(PROJECT_ROOT / "params.yaml")


class Webhook(BaseHTTPRequestHandler):
    """Records each POSTed JSON body; answers with the server's configured status."""

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.server.received.append(json.loads(self.rfile.read(length)))  # type: ignore[attr-defined]
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.end_headers()

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), Webhook)
    server.received = []  # type: ignore[attr-defined]
    server.status = 200  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook")
    yield server
    server.shutdown()


def test_an_alert_posts_slack_compatible_json(webhook):
    assert send_alert("churn", "drift alarm", "3/8 features drifted", {"report": "drift.html"})
    (payload,) = webhook.received
    assert payload == {"text": "*churn*: drift alarm\n3/8 features drifted\n- report: drift.html"}


def test_alerts_are_off_without_a_webhook(monkeypatch, capsys):
    monkeypatch.delenv("ALERT_WEBHOOK_URL", raising=False)
    assert not send_alert("churn", "drift alarm", "x")
    assert capsys.readouterr().err == ""


def test_a_failing_webhook_is_one_warning_that_hides_the_url(webhook, capsys, monkeypatch):
    webhook.status = 500
    assert not send_alert("churn", "drift alarm", "x")
    assert capsys.readouterr().err == "warning: alert not sent: the webhook answered 500\n"
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed = free.getsockname()[1]
    monkeypatch.setenv("ALERT_WEBHOOK_URL", f"http://127.0.0.1:{closed}/secret-token")
    assert not send_alert("churn", "drift alarm", "x")
    err = capsys.readouterr().err
    assert err.startswith("warning: alert not sent: the webhook cannot be reached")
    assert "secret-token" not in err


def test_a_drift_alarm_is_posted_and_still_exits_1(webhook, monkeypatch):
    summary = {
        "alarm": True,
        "drifted_features": ["age", "tenure"],
        "n_features": 7,
        "drift_share": 0.29,
        "threshold": 0.2,
        "current_source": "batch.csv",
        "warnings": [],
    }
    monkeypatch.setattr(monitoring_job, "run_monitoring", lambda *a, **k: summary)
    result = CliRunner().invoke(cli.app, ["monitor", "--params", PARAMS])
    assert result.exit_code == 1
    (payload,) = webhook.received
    assert (
        "drift alarm" in payload["text"] and "2/7 features drifted in batch.csv" in payload["text"]
    )


def test_a_candidate_the_gate_keeps_out_is_posted(webhook, monkeypatch):
    report = {"promote": False, "candidate_version": "4", "reason": "roc_auc 0.81 < 0.83 + 0.002"}
    monkeypatch.setattr(registry, "register", lambda *a, **k: report)
    result = CliRunner().invoke(cli.app, ["register", "--params", PARAMS])
    assert result.exit_code == 0  # keeping the champion is a decision, not a failure
    (payload,) = webhook.received
    assert "promotion gate" in payload["text"] and "version 4 kept as challenger" in payload["text"]


def test_the_alert_command_reads_its_text_from_the_environment(webhook, monkeypatch):
    monkeypatch.setenv("ALERT_EVENT", "scheduled training failed")
    monkeypatch.setenv("ALERT_MESSAGE", "$(touch pwned) `id`")  # text, never a command
    result = CliRunner().invoke(cli.app, ["alert", "--params", PARAMS])
    assert result.exit_code == 0, result.output
    (payload,) = webhook.received
    assert payload["text"].endswith("scheduled training failed\n$(touch pwned) `id`")
