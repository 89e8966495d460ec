"""Bring your own data: `make use-data` then the project's own `make ci`, for datasets unlike the example.

Slow: each dataset is a generated project that adopts the data, passes lint, its tests, the
pipeline and registration with no hand edit, and serves one real record.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.projects import SharedEnvironments, commit_all, new_project, project_python, served
from tests.shell import run

pytestmark = pytest.mark.slow

ADOPTION_CHANGES = {"data/contract.yaml", "params.yaml", "data/raw.dvc", "docs/model-card.yml"}


@pytest.fixture(scope="module")
def environments() -> SharedEnvironments:
    return SharedEnvironments()


# Each dataset is written by the project's own Python (it has scikit-learn, pandas, pyarrow).
MAKERS = {
    "breast cancer.csv": """
from sklearn.datasets import load_breast_cancer
load_breast_cancer(as_frame=True).frame.to_csv(PATH, index=False)
""",
    # Capitals, spaces, dashes, dots and symbols in names; gaps; free text; no sensitive column;
    # rows without a target; ISO dates in the order of the rows (a time split).
    "Renewals 2026.csv": """
import numpy as np, pandas as pd
rng = np.random.default_rng(3)
n = 400
orders = rng.integers(0, 40, n)
frame = pd.DataFrame({
    "Customer ID": np.arange(1, n + 1),
    "Monthly Spend ($)": np.where(rng.random(n) < 0.1, np.nan, rng.uniform(5, 500, n).round(2)),
    "num.orders": orders,
    "Has-Coupon": rng.choice(["yes", "no"], n),
    "Plan Type": rng.choice(["Basic", "Pro", None], n),
    "notes": [f"called on day {i}" for i in range(n)],
})
frame["Will Renew"] = np.where(orders + rng.normal(0, 5, n) > 20, "yes", "no")
frame.loc[::25, "Will Renew"] = None  # not due yet: prepare leaves them out
frame["Signed Up"] = pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d")
frame.to_csv(PATH, index=False)
""",
}
# One dataset runs end to end through the project's commands: names with spaces and symbols
# (the target's and an excluded column's names pass through make), gaps, free text and rows
# without a target. The runtime's
# tests run datasets of other shapes (binary, regression, multi-class Parquet) in-process.
DATASETS: dict[str, tuple[str, list[str], str]] = {
    "awkward-names-no-sensitive": (
        "Renewals 2026.csv",
        ["TARGET=Will Renew", "EXCLUDE=Plan Type"],
        "roc_auc",
    ),
}
RECORD = """
import json, pandas as pd
path, target = {path!r}, {target!r}
frame = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
row = json.loads(frame.drop(columns=[target]).iloc[[0]].to_json(orient="records"))[0]
classes = __import__("mlplate_runtime.config").config.load_settings().contract.classes
print(json.dumps({{"record": row, "classes": list(classes)}}))
"""


def make_dataset(project: Path, folder: Path, name: str) -> Path:
    """Write one dataset with the project's Python; return its path."""
    path = folder / name
    run(
        str(project / ".venv" / "bin" / "python"),
        "-c",
        f"PATH = {str(path)!r}\n" + MAKERS[name],
        cwd=folder,
    )
    return path


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_use_data_then_make_ci_is_green_and_serves_a_real_record(tmp_path, environments, dataset):
    name, arguments, metric = DATASETS[dataset]
    project = new_project(tmp_path / "project")
    environments.setup(project)
    source = make_dataset(project, tmp_path, name)
    # What make is given is data: no shell ever reads it.
    hostile = 'x"; touch pwned; echo "$(touch pwned)`touch pwned`'
    refused = run(
        "make", "use-data", f"DATA={hostile}", f"TARGET={hostile}", cwd=project, check=False
    )
    assert refused.returncode != 0 and "does not exist" in refused.stderr
    assert not list(project.rglob("pwned"))
    # what make is told wins over a variable left in the shell
    adopted = run(
        "make", "use-data", f"DATA={source}", *arguments, cwd=project, DATA_FILE="/old/file.csv"
    )
    assert "Review the contract, commit, then run `make all`" in adopted.stdout
    changed = set(run("git", "diff", "--name-only", cwd=project).stdout.split())
    assert changed <= ADOPTION_CHANGES, changed  # nothing else needed editing
    assert not (project / "data" / "raw" / "customers.csv").exists()  # the example is gone
    commit_all(project, f"Use {source.name}")

    run("make", "ci", cwd=project)
    target = arguments[0].split("=", 1)[1]
    promotion = json.loads((project / "reports" / "promotion.json").read_text())
    assert promotion["promote"] and promotion["metric"] == metric
    assert promotion["model"].startswith("demo-model-")
    validation = json.loads((project / "reports" / "validation.json").read_text())
    assert validation["rows_without_target"] == 16
    contract = (project / "data" / "contract.yaml").read_text()
    assert "Plan Type:\n    type: categorical\n    role: ignored" in contract
    assert "Signed Up:\n    type: datetime" in contract
    assert "split: time" in (project / "params.yaml").read_text()  # rows in date order
    metrics = json.loads((project / "reports" / "metrics.json").read_text())
    if metric == "roc_auc":
        assert metrics["roc_auc"] > 0.8
    else:
        assert metrics["r2"] > 0.2

    found = project_python(project, RECORD.format(path=str(source), target=target))
    record = found["record"]
    with served(project) as base:
        answer = httpx.post(f"{base}/predict", json={"records": [record]})
        assert answer.status_code == 200, answer.text
        prediction = answer.json()["predictions"][0]
        if metric == "rmse":
            assert isinstance(prediction["prediction"], float)
        else:
            assert prediction["label"] in found["classes"]
            assert len(prediction["probabilities"]) == len(found["classes"])
        wrong = httpx.post(f"{base}/predict", json={"records": [{**record, "no such column": 1}]})
        assert wrong.status_code == 422


def test_a_fresh_clone_without_the_data_asks_for_make_pull_and_keeps_the_pointer(
    tmp_path, environments
):
    project = new_project(tmp_path / "project")
    environments.setup(project)
    run(
        "make",
        "use-data",
        f"DATA={make_dataset(project, tmp_path, 'breast cancer.csv')}",
        "TARGET=target",
        cwd=project,
    )
    commit_all(project, "Use the breast cancer data")
    clone = tmp_path / "clone"
    run("git", "clone", "--quiet", str(project), str(clone), cwd=tmp_path)
    environments.setup(clone)
    pointer = (clone / "data" / "raw.dvc").read_text()
    result = run("make", "all", cwd=clone, check=False)
    assert result.returncode != 0
    assert "run `make pull` to download it" in result.stderr
    assert "Traceback" not in result.stderr
    assert (clone / "data" / "raw.dvc").read_text() == pointer
    assert not (clone / "data" / "raw" / "customers.csv").exists()  # no example written over it
    assert run("git", "status", "--porcelain", cwd=clone).stdout.strip() == ""
