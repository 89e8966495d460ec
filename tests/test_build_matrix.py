"""A pairwise covering set of answer combinations, each fully built and run (slow).

Every pair of values of two answers appears in at least one build: install, the project's
own `make ci` (lint, tests, pipeline, gate) and, with serving, a request to the running app.
Python 3.12/3.13 minimums are covered by the static matrix only: this machine has 3.11.
"""

from __future__ import annotations

import csv
import itertools

import pytest

from tests.matrix import choice_values, combo_id, pairwise
from tests.projects import SharedEnvironments, new_project
from tests.shell import run
from tests.test_hostile_answers import HOSTILE_AUTHOR, HOSTILE_TEXT
from tests.test_project_pipeline import serve_and_predict

pytestmark = pytest.mark.slow

BUILDABLE = {**choice_values(), "python_version": ("3.10", "3.11")}
BUILDABLE.pop("license")
CONFIGURATIONS = pairwise(BUILDABLE)
PIPELINE_FILES = {
    "kubeflow": ("pipeline.yaml", "batch-pipeline.yaml"),
    "azureml": ("azureml-pipeline.yml", "azureml-batch.yml"),
    "sagemaker": ("sagemaker-pipeline.json", "sagemaker-batch.json"),
}


@pytest.fixture(scope="module")
def environments() -> SharedEnvironments:
    return SharedEnvironments()


def test_the_configurations_cover_every_pair_of_answer_values():
    for (a, values_a), (b, values_b) in itertools.combinations(BUILDABLE.items(), 2):
        for pair in itertools.product(values_a, values_b):
            assert any((c[a], c[b]) == pair for c in CONFIGURATIONS), (a, b, pair)
    assert len(CONFIGURATIONS) == 12  # the fewest possible: orchestrator has 4 values, ci 3


# Two groups of builds, one per xdist worker: the builds are most of the suite's time.
BUILDS = [
    pytest.param(c, id=combo_id(c), marks=pytest.mark.xdist_group(f"build-matrix-{i % 2}"))
    for i, c in enumerate(CONFIGURATIONS)
]


@pytest.mark.parametrize("answers", BUILDS)
def test_configuration_builds_and_runs_its_own_ci(tmp_path, environments, answers):
    # Every build carries hostile free text: it must stay literal through CI, serving and docs.
    project = new_project(tmp_path, **answers, description=HOSTILE_TEXT, author_name=HOSTILE_AUTHOR)
    environments.setup(project)
    # A server project tracks to the team's server; test_scale_out runs one. Here, as in a
    # CI job given MLFLOW_TRACKING_URI, the same code uses another store by configuration.
    env = {}
    if answers["mlflow_tracking"] == "server":
        env["MLFLOW_TRACKING_URI"] = f"sqlite:///{project / 'mlflow.db'}"
    run("make", "ci", cwd=project, **env)
    assert (project / "reports" / "promotion.json").is_file()
    # Batch predictions with the champion the registry now holds (with an orchestrator, the
    # project's tests run the batch step's own command instead).
    if answers["orchestrator"] == "none":
        holdout = project / "data" / "prepared" / "test.csv"
        scored = project / "reports" / "batch" / "predictions.csv"
        run("make", "predict-batch", cwd=project, INPUT=str(holdout), OUTPUT=str(scored), **env)
        with scored.open() as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == len(holdout.read_text().splitlines()) - 1
        assert {row["model_version"] for row in rows} == {"1"}
    if answers["feature_store"] == "feast":
        built = run("make", "features", cwd=project)  # the stage make ci ran: not run again
        assert "Running stage 'feature_store'" not in built.stdout
        assert (project / "data" / "feature_store" / "online.db").is_file()
    if answers["serving"] == "fastapi":
        ids: tuple[int, ...] = ()
        if answers["feature_store"] == "feast":
            train = (project / "data" / "features" / "train.csv").read_text().splitlines()
            ids = tuple(int(line.split(",")[0]) for line in train[1:3])  # customer_id comes first
        serve_and_predict(project, ids, **env)
    else:
        # no serving extra of the runtime: the project installs no web stack
        assert "serving" not in (project / "pyproject.toml").read_text().split("dependencies")[1]
    if answers["docs"]:
        run("make", "docs", cwd=project, **env)
        page = (project / "site" / "index.html").read_text()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    if answers["pre_commit"]:
        run("make", "pre-commit", cwd=project)
    if answers["orchestrator"] != "none":
        # The definition compiles from the project as CI leaves it (data tracked, model trained).
        run("make", "pipeline", "PIPELINE_IMAGE=registry.example.com/demo:1", cwd=project)
        for name in PIPELINE_FILES[answers["orchestrator"]]:  # training, batch predictions
            assert "registry.example.com/demo:1" in (project / name).read_text()
