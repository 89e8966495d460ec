"""Rollback: `champion` moves back to the previous champion (or a chosen version) in a real MLflow
registry, the move is recorded on the version, and a running server serves it after a reload."""

from __future__ import annotations

import subprocess
import time

import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from mlplate_runtime.config import ServingSettings
from mlplate_runtime.data.synthetic import json_records
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.models.registry import (
    CHAMPION,
    GATE_PASSED_TAG,
    PREVIOUS_CHAMPION_TAG,
    PROMOTED_AT_TAG,
    alias_version,
    make_champion,
)
from mlplate_runtime.models.rollback import rollback
from mlplate_runtime.serving.app import create_app
from mlplate_runtime.serving.models import alias_versions


@pytest.fixture
def registry(settings):
    """The test's registered model in the session's SQLite store."""
    return MlflowClient(settings.tracking_uri, registry_uri=settings.tracking_uri)


def add_version(settings, model, *, passed=True):
    """Log ``model`` in a new run and register it; tag the gate's verdict as `register` does."""
    import mlflow.sklearn

    from mlplate_runtime.models.store import trusted_types
    from mlplate_runtime.tracking import start_tracking

    start_tracking(settings)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            pip_requirements=["scikit-learn"],  # no inference: ~0.1 s instead of ~3 s
            skops_trusted_types=trusted_types(model),
        )
    name = settings.params.mlflow.registered_model
    version = mlflow.register_model(info.model_uri, name).version
    registry = MlflowClient(settings.tracking_uri, registry_uri=settings.tracking_uri)
    registry.set_model_version_tag(name, version, GATE_PASSED_TAG, str(passed).lower())
    return str(version)


def promote(settings, registry, version):
    """What the gate does when ``version`` beats the champion."""
    name = settings.params.mlflow.registered_model
    champion = alias_version(registry, name, CHAMPION)
    make_champion(registry, name, registry.get_model_version(name, version), champion)


def champion_version(settings, registry):
    name = settings.params.mlflow.registered_model
    return str(registry.get_model_version_by_alias(name, CHAMPION).version)


def tags(settings, registry, version):
    return registry.get_model_version(settings.params.mlflow.registered_model, version).tags


@pytest.fixture
def champions(settings, registry, fitted):
    """Versions 1, 2 and 3, each promoted over the one before: 3 is champion."""
    versions = [add_version(settings, fitted) for _ in range(3)]
    for version in versions:
        promote(settings, registry, version)
    return versions


def test_the_gate_records_when_a_version_became_champion_and_which_it_replaced(
    settings, registry, champions
):
    first, second, _ = champions
    assert PROMOTED_AT_TAG in tags(settings, registry, first)
    assert PREVIOUS_CHAMPION_TAG not in tags(settings, registry, first)  # the first champion
    assert tags(settings, registry, second)[PREVIOUS_CHAMPION_TAG] == first
    promoted_at = tags(settings, registry, second)[PROMOTED_AT_TAG]
    promote(settings, registry, second)  # already champion once: its history is kept
    assert tags(settings, registry, second)[PROMOTED_AT_TAG] == promoted_at


def test_rollback_moves_the_champion_back_and_records_who_and_why(settings, registry, champions):
    done = rollback(settings, reason="errors up 4x since 14:00", by="alice")
    assert champion_version(settings, registry) == champions[1] == done.to_version
    assert done.from_version == champions[2]
    assert done.chosen_by == f"the champion that version {champions[2]} replaced"
    recorded = tags(settings, registry, champions[1])
    assert recorded["rollback_by"] == "alice"
    assert recorded["rollback_reason"] == "errors up 4x since 14:00"
    assert recorded["rolled_back_from"] == champions[2]
    assert recorded["rolled_back_at"].endswith("Z")


def test_rolling_back_again_walks_further_back_then_stops_at_the_first_champion(
    settings, registry, champions
):
    first, second, _ = champions
    assert rollback(settings, by="bob").to_version == second
    assert rollback(settings, by="bob").to_version == first
    assert tags(settings, registry, first)["rolled_back_from"] == second
    assert tags(settings, registry, first)["rollback_reason"] == "(no reason given)"
    with pytest.raises(ProjectError, match=f"version {first} was the first champion"):
        rollback(settings, by="bob")
    assert champion_version(settings, registry) == first


def test_after_a_rollback_the_next_champion_rolls_back_to_the_one_it_replaced(
    settings, registry, champions, fitted
):
    _, second, third = champions
    rollback(settings, by="carol")  # 3 was bad: 2 serves
    fourth = add_version(settings, fitted)
    promote(settings, registry, fourth)
    # The champion before 4 was 2 (3 had been rolled back), though 3 was promoted more recently.
    assert rollback(settings, by="carol").to_version == second != third


def test_rollback_to_a_chosen_version_records_it_as_a_promotion_over_the_champion(
    settings, registry, fitted, champions
):
    untried = add_version(settings, fitted, passed=False)  # never champion: failed the gate
    done = rollback(settings, version=untried, reason="hotfix model", by="dan")
    assert champion_version(settings, registry) == untried
    assert done.chosen_by == "VERSION"
    assert done.gate_reason is not None  # the command warns about it
    assert tags(settings, registry, untried)[PREVIOUS_CHAMPION_TAG] == champions[2]
    assert rollback(settings, by="dan").to_version == champions[2]


def test_projects_without_promotion_history_fall_back_to_the_last_version_that_passed(
    settings, registry, fitted
):
    name = settings.params.mlflow.registered_model
    passed = add_version(settings, fitted, passed=True)
    add_version(settings, fitted, passed=False)
    current = add_version(settings, fitted, passed=True)
    registry.set_registered_model_alias(name, CHAMPION, current)  # as older runtimes did
    done = rollback(settings, by="erin")
    assert done.to_version == passed
    assert f"the highest version below {current} that passed the gate" in done.chosen_by


def test_rolling_back_to_a_champion_from_before_the_history_never_comes_back(
    settings, registry, fitted
):
    name = settings.params.mlflow.registered_model
    first = add_version(settings, fitted, passed=True)
    registry.set_registered_model_alias(name, CHAMPION, first)  # as older runtimes did
    second = add_version(settings, fitted, passed=True)
    promote(settings, registry, second)  # recorded: it replaced the first
    assert rollback(settings, by="frank").to_version == first
    with pytest.raises(ProjectError, match="first champion"):
        rollback(settings, by="frank")  # not back to the version just rolled back from
    assert champion_version(settings, registry) == first


def _cli(monkeypatch, settings):
    """Run `rollback` through the CLI on ``settings``: (exit code, output)."""
    from typer.testing import CliRunner

    from mlplate_runtime import cli

    monkeypatch.setattr(cli, "_settings", lambda params: settings)

    def run(*args, env=None):
        result = CliRunner().invoke(cli.app, ["rollback", *args], env=env)
        return result.exit_code, result.output

    return run


def test_the_command_takes_the_version_and_reason_from_the_environment(
    settings, registry, champions, monkeypatch
):
    run = _cli(monkeypatch, settings)
    code, output = run(env={"ROLLBACK_VERSION": champions[0], "ROLLBACK_REASON": "a; rm -rf /"})
    assert code == 0, output
    assert f"rolled back from version {champions[2]} to {champions[0]} (VERSION)" in output
    assert champion_version(settings, registry) == champions[0]
    assert tags(settings, registry, champions[0])["rollback_reason"] == "a; rm -rf /"


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ("none", [], "has no champion: there is nothing to roll back"),
        ("one", [], "version 1 was the first champion"),
        ("two", ["--to", "9"], "has no version 9 (its versions: 1, 2)"),
        ("two", ["--to", "2"], "version 2 of "),
        ("two", ["--to", "two"], "VERSION must be a model version number such as 3, not 'two'"),
        ("legacy", [], "no previous champion of"),
    ],
    ids=[
        "no-champion",
        "no-previous",
        "unknown-version",
        "already-champion",
        "not-a-number",
        "no-history",
    ],
)
def test_impossible_rollbacks_fail_in_one_line_and_move_nothing(
    settings, registry, fitted, monkeypatch, setup, args, message
):
    name = settings.params.mlflow.registered_model
    if setup == "none":
        add_version(settings, fitted)
    elif setup == "legacy":
        add_version(settings, fitted, passed=False)
        registry.set_registered_model_alias(name, CHAMPION, add_version(settings, fitted))
    else:
        for _ in range({"one": 1, "two": 2}[setup]):
            promote(settings, registry, add_version(settings, fitted))
    before = alias_version(registry, name, CHAMPION)
    code, output = _cli(monkeypatch, settings)(*args, "--by", "frank")
    assert code == 1
    assert output.startswith("error: ") and output.count("\n") == 1, output
    assert message in output
    after = alias_version(registry, name, CHAMPION)
    assert (after and after.version) == (before and before.version)
    if before is not None:
        assert "rollback_by" not in registry.get_model_version(name, before.version).tags


def test_the_operator_is_git_user_name_else_the_login_name(settings, champions, monkeypatch):
    from mlplate_runtime.models.rollback import operator

    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")  # the machine's own name stays out
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("LOGNAME", "ops-bot")
    assert operator(settings.root) == "ops-bot"  # not a git checkout
    subprocess.run(["git", "init", "-q", str(settings.root)], check=True)
    subprocess.run(["git", "-C", str(settings.root), "config", "user.name", "Ada L"], check=True)
    assert operator(settings.root) == "Ada L"
    assert rollback(settings).by == "Ada L"


def test_a_running_server_serves_the_previous_champion_after_a_rollback(
    settings, registry, champions, sample
):
    serving = ServingSettings(prediction_log=None, reload_seconds=0.1)
    records = json_records(sample.head(3), settings.contract)
    with TestClient(create_app(settings, serving)) as api:
        assert api.get("/metadata").json()["champion"]["version"] == champions[2]
        rollback(settings, reason="test", by="grace")
        deadline = time.monotonic() + 30
        while api.get("/metadata").json()["champion"]["version"] != champions[1]:
            assert time.monotonic() < deadline, "the server never loaded the rolled-back champion"
            time.sleep(0.1)
        response = api.post("/predict", json={"records": records})
        assert response.status_code == 200 and response.json()["model_version"] == champions[1]
        assert 'model_info{role="champion",version="3"}' not in api.get("/metrics").text


def test_a_model_given_by_uri_is_never_reloaded(settings, champions):
    pinned = ServingSettings(prediction_log=None, model_uri="models:/any/1")
    assert alias_versions(settings, pinned) == {}
    assert alias_versions(settings, ServingSettings(prediction_log=None)) == {
        "champion": champions[2]
    }
