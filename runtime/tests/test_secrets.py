"""Credentials never reach a message, a log line or an endpoint, and the app listens at once
whatever the tracking store's state."""

from __future__ import annotations

import socket
import threading

import pytest
from fastapi.testclient import TestClient

from mlplate_runtime import alerts
from mlplate_runtime.config import ServingSettings
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.redact import redact
from mlplate_runtime.serving import app as serving_app
from mlplate_runtime.serving.app import create_app
from mlplate_runtime.tracking import require_server

TOKEN = "AbCdEf0123456789xYz_abcd"


@pytest.mark.parametrize(
    ("text", "kept", "hidden"),
    [
        ("https://alice:s3cret@mlflow.example.com/x", "https://***@mlflow.example.com/x", "s3cret"),
        (
            f"https://hooks.slack.com/services/T0/B0/{TOKEN}",
            "hooks.slack.com/services/T0/B0/***",
            TOKEN,
        ),
        ("http://h:5000/api?token=abc&page=2", "token=***&page=2", "abc&"),
        (f"see s3://bucket/{TOKEN}/model.pkl now", "s3://bucket/***/model.pkl now", TOKEN),
        ("models:/churn@champion and sqlite:///mlflow.db", "models:/churn@champion", "***"),
    ],
)
def test_redact_hides_user_info_query_secrets_and_path_tokens(text, kept, hidden):
    assert kept in redact(text) and hidden not in redact(text)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_server_is_named_without_its_credentials():
    uri = f"http://alice:s3cret@127.0.0.1:{_closed_port()}/{TOKEN}"
    with pytest.raises(ProjectError) as raised:
        require_server(uri, timeout=1)
    message = str(raised.value)
    assert "is not reachable" in message and "s3cret" not in message and TOKEN not in message


def test_ready_reports_an_unreachable_store_without_its_credentials(module_settings):
    uri = f"http://alice:s3cret@127.0.0.1:{_closed_port()}/{TOKEN}"
    settings = module_settings.model_copy(update={"tracking_uri": uri})
    app = create_app(settings, ServingSettings(prediction_log=None))
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        ready = client.get("/ready")
    assert ready.status_code == 503
    reason = ready.json()["reason"]
    assert "is not reachable" in reason and "s3cret" not in reason and TOKEN not in reason


def test_the_app_listens_while_a_slow_store_still_loads(module_settings, monkeypatch):
    monkeypatch.setattr(serving_app, "STARTUP_WAIT_SECONDS", 0.2)
    release = threading.Event()

    def hanging_loader(*_):
        release.wait(30)
        raise ConnectionError("the store never answered")

    app = create_app(module_settings, ServingSettings(prediction_log=None), loader=hanging_loader)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        ready = client.get("/ready")
        release.set()
    assert ready.status_code == 503 and "still loading" in ready.json()["reason"]


@pytest.mark.parametrize(
    "url",
    [f"https://hooks.slack.com/services/T0/B0/{TOKEN} x", "https:///no-host", "https://h/\x07"],
)
def test_a_malformed_webhook_is_one_warning_without_the_url(monkeypatch, capsys, url):
    monkeypatch.setenv(alerts.WEBHOOK_ENV, url)
    assert alerts.send_alert("demo", "drift alarm", "3 features drifted") is False
    err = capsys.readouterr().err
    assert err.startswith("warning: alert not sent: ALERT_WEBHOOK_URL is not a valid URL")
    assert TOKEN not in err and "Traceback" not in err
