"""The generated project's own commands: setup, lint, tests, pipeline, registry, remote.

Slow: installs the generated project's dependencies (shared across configurations).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.projects import (
    SharedEnvironments,
    commit_all,
    new_project,
    project_python,
    served,
)
from tests.shell import run

pytestmark = pytest.mark.slow

CHAMPION_QUERY = """
import json, mlflow
from mlflow import MlflowClient
from mlplate_runtime.config import load_settings
s = load_settings()
c = MlflowClient(s.tracking_uri)
v = c.get_model_version_by_alias(s.params.mlflow.registered_model, "champion")
run = c.get_run(v.run_id)
print(json.dumps({"version": str(v.version), "version_tags": v.tags, "run_tags": run.data.tags,
                  "run_metrics": run.data.metrics, "params": run.data.params}))
"""


@pytest.fixture(scope="module")
def environments() -> SharedEnvironments:
    return SharedEnvironments()


@pytest.fixture(scope="module")
def golden(tmp_path_factory, environments):
    """The defaults project after `make setup` and `make all`, committed."""
    project = new_project(tmp_path_factory.mktemp("golden"))
    environments.setup(project)
    started = time.perf_counter()
    run("make", "all", cwd=project)
    print(f"golden make all: {time.perf_counter() - started:.1f} s")
    commit_all(project, "Run the pipeline")
    return project


def test_golden_project_passes_its_own_lint_and_tests(golden):
    run("make", "lint", cwd=golden)
    result = run("make", "test", cwd=golden)
    assert " passed" in result.stdout


def test_make_help_lists_targets_with_their_real_address(golden):
    result = run("make", "help", "PORT=8123", cwd=golden)
    assert "use-data" in result.stdout
    assert "http://127.0.0.1:8123" in result.stdout
    assert "$(HOST)" not in result.stdout


def test_pre_commit_hooks_pass_offline_and_change_nothing(golden):
    result = run("make", "pre-commit", cwd=golden)
    assert "Failed" not in result.stdout
    assert run("git", "status", "--porcelain", cwd=golden).stdout.strip() == ""


def test_second_repro_is_a_no_op(golden):
    result = run(str(golden / ".venv" / "bin" / "dvc"), "repro", cwd=golden)
    assert "Data and pipelines are up to date." in result.stdout
    assert "Running stage" not in result.stdout


def test_champion_run_carries_lineage_and_metrics(golden):
    found = project_python(golden, CHAMPION_QUERY)
    head = run("git", "rev-list", "--max-parents=0", "HEAD", cwd=golden).stdout.strip()
    for tags in (found["run_tags"], found["version_tags"]):
        assert tags["lineage.git_commit"] == head  # trained on the generated commit
        assert tags["lineage.git_dirty"] == "false"
        assert len(tags["lineage.data.data/raw/customers.csv"]) == 32
        assert len(tags["lineage.params_hash"]) == 16
    assert found["version"] == "1"
    assert 0.6 < found["run_metrics"]["test_roc_auc"] <= 1.0
    assert found["params"]["model_type"] == "hist_gradient_boosting"
    lock = (golden / "dvc.lock").read_text()
    assert found["run_tags"]["lineage.data.data/features/train.csv"] in lock


def test_lineage_command_names_the_champion_commit_and_data(golden):
    result = run("make", "lineage", cwd=golden)
    assert "git_commit" in result.stdout
    assert "data.data/raw/customers.csv" in result.stdout


def test_push_then_pull_in_a_fresh_clone_is_in_sync(golden, environments):
    run("make", "push", cwd=golden)
    clone = golden.parent / "clone"
    run("git", "clone", "--quiet", str(golden), str(clone), cwd=golden.parent)
    environments.setup(clone)
    run("make", "pull", cwd=clone)
    assert (clone / "models" / "model.skops").is_file()
    status = run(str(clone / ".venv" / "bin" / "dvc"), "status", cwd=clone)
    assert "Data and pipelines are up to date." in status.stdout
    cloud = run(str(clone / ".venv" / "bin" / "dvc"), "status", "--cloud", cwd=clone)
    assert "Cache and remote 'local' are in sync." in cloud.stdout


def test_a_model_replaced_in_the_remote_is_refused_by_pull(golden, environments, tmp_path):
    """Security (issue 15): a pickle swapped in for the model in the DVC remote never loads."""
    import yaml

    run("make", "push", cwd=golden)
    lock = yaml.safe_load((golden / "dvc.lock").read_text())
    md5 = next(
        o["md5"] for o in lock["stages"]["train"]["outs"] if o["path"] == "models/model.skops"
    )
    stored = golden.parent / f"{golden.name}-dvc-remote" / "files" / "md5" / md5[:2] / md5[2:]
    original = stored.read_bytes()
    stored.chmod(0o644)
    try:
        stored.write_bytes(b"\x80\x04\x95 a 69-byte pickle that would run code when loaded \x94.")
        clone = tmp_path / "clone"
        run("git", "clone", "--quiet", str(golden), str(clone), cwd=tmp_path)
        environments.setup(clone)
        pulled = run("make", "pull", cwd=clone, check=False)
        assert pulled.returncode != 0
        assert not (clone / "models" / "model.skops").exists()
    finally:
        stored.write_bytes(original)


def _snapshot(project: Path) -> dict[str, str]:
    """What a failed run must leave alone: lock, data pointer, prepared data, model, champion."""
    files = ["dvc.lock", "data/raw.dvc", "data/prepared/train.csv", "models/model.skops"]
    snapshot = {name: (project / name).read_bytes().hex() for name in files}
    snapshot["champion"] = project_python(project, CHAMPION_QUERY)["version"]
    return snapshot


def test_corrupt_data_stops_the_pipeline_with_the_validation_message(golden):
    raw = golden / "data" / "raw" / "customers.csv"
    original = raw.read_text()
    lines = original.splitlines()
    row = lines[3].split(",")
    row[lines[0].split(",").index("age")] = "old"
    lines[3] = ",".join(row)
    before = _snapshot(golden)
    try:
        raw.write_text("\n".join(lines) + "\n")
        result = run("make", "all", cwd=golden, check=False)
        assert result.returncode != 0
        assert (
            "data/raw/customers.csv breaks the data contract: column 'age': expected integer "
            "values, found text at lines 4" in result.stderr
        )
        assert "Traceback" not in result.stderr
        assert "Running stage" not in result.stdout  # stopped before DVC and its cache
        assert _snapshot(golden) == before
        # `dvc repro` alone (DVC re-hashes data/raw itself) stops at the validate stage:
        # the later stages' outputs, the model and the champion stay as they were.
        repro = run(str(golden / ".venv" / "bin" / "dvc"), "repro", cwd=golden, check=False)
        assert repro.returncode != 0
        assert "Running stage 'prepare'" not in repro.stdout
        after = _snapshot(golden)
        assert {k: v for k, v in after.items() if k != "data/raw.dvc"} == {
            k: v for k, v in before.items() if k != "data/raw.dvc"
        }
    finally:
        raw.write_text(original)
        run("make", "all", cwd=golden)  # restored from DVC's run cache
    assert run("git", "status", "--porcelain", cwd=golden).stdout.strip() == ""


def set_params(project, **replacements: str) -> None:
    params = project / "params.yaml"
    text = params.read_text()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    params.write_text(text)


def test_a_worse_pull_request_fails_its_check_and_stays_challenger(golden):
    """The train-on-commit check on a branch that makes the model worse: `make train-report`
    against main fails with the table of what changed; registered, the model stays challenger
    and the champion is unchanged (the runtime's tests cover the improving case)."""
    try:
        run("git", "checkout", "--quiet", "-b", "worse", cwd=golden)
        set_params(
            golden, **{"max_iter: 150": "max_iter: 2", "max_leaf_nodes: 15": "max_leaf_nodes: 2"}
        )
        worse = run("make", "train-report", "BASE=main", cwd=golden, check=False)
        assert worse.returncode != 0
        report = (golden / "reports" / "pr_report.md").read_text()
        assert "**Gate: failed**" in report and "would stay challenger" in report
        assert "| `model.hist_gradient_boosting.max_iter` | 150 | 2 |" in report
        assert re.search(r"\| \*\*roc_auc\*\* \| 0\.\d{4} \| 0\.\d{4} \| -0\.\d{4} \|", report)
        run("make", "register", cwd=golden)
        promotion = json.loads((golden / "reports" / "promotion.json").read_text())
        assert promotion["promote"] is False and promotion["alias_set"] == "challenger"
        assert promotion["candidate"] < promotion["champion"]
        assert project_python(golden, CHAMPION_QUERY)["version"] == "1"
    finally:
        run("git", "checkout", "--quiet", "--", "params.yaml", cwd=golden)
        run("git", "checkout", "--quiet", "main", cwd=golden)
        run("make", "all", cwd=golden)  # back to the committed state (cached: no retraining)
    assert run("git", "status", "--porcelain", cwd=golden).stdout.strip() == ""


def test_monitor_is_green_on_a_fresh_project_and_alarms_on_simulated_drift(golden):
    run("make", "monitor", cwd=golden)
    summary = json.loads((golden / "reports" / "monitoring" / "drift.json").read_text())
    assert summary["alarm"] is False
    assert summary["current_source"].startswith("held-out split")
    run("make", "simulate-drift", cwd=golden)
    try:
        alarm = run("make", "monitor", cwd=golden, check=False)
        assert alarm.returncode != 0
        assert "drift alarm" in alarm.stderr
        page = (golden / "reports" / "monitoring" / "drift.html").read_text()
        assert "Drift alarm" in page
        assert "<script" not in page and "http" not in page
    finally:
        (golden / "data" / "monitoring" / "current.csv").unlink()


def serve_and_predict(project: Path, ids: tuple[int, ...] = (), **env: str) -> dict:
    """Start `make serve`, check a good and a bad request (and scoring by ``ids``); return /metadata."""
    import httpx

    record = {
        "age": 30,
        "tenure_months": 3,
        "contract": "month-to-month",
        "payment_method": "electronic-check",
        "monthly_charges": 99.0,
        "total_charges": 300.0,
        "support_calls": 4,
    }
    with served(project, **env) as base:
        answer = httpx.post(f"{base}/predict", json={"records": [record]})
        assert answer.status_code == 200
        prediction = answer.json()["predictions"][0]
        if "probability" in prediction:  # classification
            assert 0 <= prediction["probability"] <= 1
            assert prediction["label"] in (0, 1)
        else:  # regression: spend over the next year
            assert prediction["prediction"] > 0
        bad = httpx.post(f"{base}/predict", json={"records": [{**record, "age": "x"}]})
        assert bad.status_code == 422
        if ids:  # the feature store's online values, looked up by the running app
            by_id = httpx.post(f"{base}/predict/by-id", json={"ids": list(ids)})
            assert by_id.status_code == 200, by_id.text
            assert len(by_id.json()["predictions"]) == len(ids)
        return httpx.get(f"{base}/metadata").json()


def test_make_serve_answers_with_the_registered_champion(golden):
    metadata = serve_and_predict(golden)
    assert metadata["champion"]["version"] == "1"
    assert len(metadata["champion"]["lineage"]["git_commit"]) == 40
    log = (golden / "logs" / "predictions.jsonl").read_text().splitlines()
    assert len(log) == 1
    assert json.loads(log[0])["model_version"] == "1"


EXTERNAL_ASSET = re.compile(
    r"""<(?:script|link|img|iframe)[^>]+(?:src|href)=["']?(?:https?:)?//""", re.IGNORECASE
)


def chromium_dom(url: str, user_data: Path) -> str:
    import shutil
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("chromium is not installed; run .ci/tools (README's test command does)")
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--log-level=3",
            f"--user-data-dir={user_data}",
            "--virtual-time-budget=3000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_docs_build_offline_and_render_the_model_card_in_a_browser(golden, tmp_path):
    run("make", "docs", cwd=golden)
    site = golden / "site"
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 6
    for page in pages:
        text = page.read_text()
        assert not EXTERNAL_ASSET.search(text), f"{page} loads an external asset"
        assert "fonts.googleapis" not in text
    spark = (site / "spark-batch" / "index.html").read_text()  # in the nav, linked from index
    assert "spark_job" in spark and 'href="spark-batch/"' in (site / "index.html").read_text()
    index = chromium_dom((site / "index.html").as_uri(), tmp_path / "chrome1")
    assert "Quickstart" in index
    card = chromium_dom((site / "model-card" / "index.html").as_uri(), tmp_path / "chrome2")
    assert re.search(r"<table>.*roc_auc.*</table>", card, re.DOTALL)
    assert 'id="fairness"' in card
    assert re.search(r"<td>female</td>\s*<td>\d+</td>", card)
    assert "No champion model is registered yet" not in card
