"""A pairwise covering set of answer combinations, each fully built and run (slow).

Every pair of values of two answers that change what a local `make ci` runs (task, serving,
docs, pre_commit, mlflow_tracking, feature_store) appears in at least one build: install, the
project's own `make ci` (lint, tests, pipeline, gate) and, with serving, a request to the
running app. The orchestrator changes what a managed pipeline runs: each compiler builds the
pipeline of a project with the feature store (whose stage it adds) and `none` builds without
one; the runtime's tests run every compiled step. The answers that change only files nothing
runs here (ci: the workflows, checked by actionlint and GitLab's schema; docker: the
Dockerfiles, checked by hadolint; dvc_remote: .dvc/config, pushed and pulled through S3 by
test_scale_out; python_version: text, as this machine has 3.11 only) are cycled through the
builds, so each of their values still builds.
"""

from __future__ import annotations

import csv
import itertools

import pytest

from mlplate.answers import questions
from tests.matrix import choice_values, combo_id, pairwise
from tests.projects import SharedEnvironments, new_project
from tests.shell import run
from tests.test_hostile_answers import HOSTILE_AUTHOR, HOSTILE_TEXT
from tests.test_project_pipeline import serve_and_predict

pytestmark = pytest.mark.slow

CYCLED = {"ci", "docker", "dvc_remote", "python_version", "license"}
BUILDABLE = {
    name: values
    for name, values in choice_values().items()
    if name not in CYCLED and name != "orchestrator"
}
CYCLED_VALUES = {
    **{name: values for name, values in choice_values().items() if name in CYCLED},
    "python_version": ("3.10", "3.11"),
}
COMPILERS = ("kubeflow", "azureml", "sagemaker")


def with_orchestrators(combos: list[dict]) -> list[dict]:
    """Each compiler on a build with the feature store; `none` on the others."""
    compilers = iter(COMPILERS * len(combos))
    return [
        {**combo, "orchestrator": next(compilers) if combo["feature_store"] == "feast" else "none"}
        for combo in combos
    ]


# The golden project of test_project_pipeline (every answer at its default) is built, run and
# served there: the covering set is turned so that one of its rows is the golden project's
# answers (swapping a yes/no answer's two values in every row keeps every pair covered), and
# that row is not built again here.
GOLDEN = {question.name: question.default for question in questions() if question.name in BUILDABLE}


def around_golden(combos: list[dict]) -> list[dict]:
    """``combos`` with values swapped so that one row is GOLDEN, that row left out (the first
    such turn that keeps one build with the feature store per compiler)."""
    for chosen in combos:
        turned = [
            {
                name: value if chosen[name] == GOLDEN[name] else _other(name, value)
                for name, value in combo.items()
            }
            for combo in combos
            if combo is not chosen
        ]
        if sum(combo["feature_store"] == "feast" for combo in turned) >= len(COMPILERS):
            return turned
    raise AssertionError("no row can be the golden project's")


def _other(name: str, value: object) -> object:
    first, second = BUILDABLE[name]  # every buildable answer is yes/no (two values)
    return second if value == first else first


CONFIGURATIONS = [
    {**combo, **{name: values[index % len(values)] for name, values in CYCLED_VALUES.items()}}
    for index, combo in enumerate(with_orchestrators(around_golden(pairwise(BUILDABLE))))
]
PIPELINE_FILES = {
    "kubeflow": ("pipeline.yaml", "batch-pipeline.yaml"),
    "azureml": ("azureml-pipeline.yml", "azureml-batch.yml"),
    "sagemaker": ("sagemaker-pipeline.json", "sagemaker-batch.json"),
}


@pytest.fixture(scope="module")
def environments() -> SharedEnvironments:
    return SharedEnvironments()


def test_the_configurations_cover_every_pair_of_answer_values():
    built = [*CONFIGURATIONS, GOLDEN]  # the golden project is built by test_project_pipeline
    for (a, values_a), (b, values_b) in itertools.combinations(BUILDABLE.items(), 2):
        for pair in itertools.product(values_a, values_b):
            assert any((c[a], c[b]) == pair for c in built), (a, b, pair)
    assert len(built) == 6  # the fewest possible for six yes/no answers
    assert all(len(values) == 2 for values in BUILDABLE.values())  # what around_golden needs
    for name, values in CYCLED_VALUES.items():  # and every value of the others builds once
        assert {combo[name] for combo in CONFIGURATIONS} == set(values), name
    compiled = {c["orchestrator"] for c in CONFIGURATIONS if c["feature_store"] == "feast"}
    assert compiled == set(COMPILERS)  # each compiler, with the feature store's stage
    assert any(c["orchestrator"] == "none" for c in CONFIGURATIONS)


def build_seconds(combo: dict) -> int:
    """A rough cost of one build (the feature store's stage and imports weigh most)."""
    extra = {"feature_store": ("feast", 35), "serving": ("fastapi", 8), "docs": (True, 5)}
    return 60 + sum(cost for name, (value, cost) in extra.items() if combo[name] == value)


def halves(combos: list[dict]) -> tuple[list[dict], list[dict]]:
    """Two halves of about the same cost: longest first, each to the cheaper half."""
    first: list[dict] = []
    second: list[dict] = []
    for combo in sorted(combos, key=build_seconds, reverse=True):
        cheaper = min(first, second, key=lambda half: sum(map(build_seconds, half)))
        cheaper.append(combo)
    return first, second


FIRST, SECOND = ([pytest.param(c, id=combo_id(c)) for c in half] for half in halves(CONFIGURATIONS))


# The builds are most of the suite's time: two classes, which xdist's loadscope schedules as
# two units (a module would be one), so each worker builds half.
class TestFirstHalf:
    @pytest.mark.parametrize("answers", FIRST)
    def test_configuration_builds_and_runs_its_own_ci(self, tmp_path, environments, answers):
        build_and_run(tmp_path, environments, answers)


class TestSecondHalf:
    @pytest.mark.parametrize("answers", SECOND)
    def test_configuration_builds_and_runs_its_own_ci(self, tmp_path, environments, answers):
        build_and_run(tmp_path, environments, answers)


def in_a_hostile_folder(answers: dict) -> bool:
    """The one build made in a folder whose name has spaces and shell syntax (issue 15)."""
    return answers is next(c for c in CONFIGURATIONS if c["orchestrator"] == "none")


def build_and_run(tmp_path, environments: SharedEnvironments, answers: dict) -> None:
    """Generate ``answers``, install it, run its `make ci` and what its answers add."""
    hostile_folder = in_a_hostile_folder(answers)
    if hostile_folder:  # a parent folder's name never reaches the shell as code
        tmp_path = tmp_path / "my work $(touch pwned) `touch pwned`"
    # Every build carries hostile free text: it must stay literal through CI, serving and docs.
    project = new_project(tmp_path, **answers, description=HOSTILE_TEXT, author_name=HOSTILE_AUTHOR)
    if hostile_folder:
        not_set_up = run("make", "venv", cwd=project, check=False)
        assert not_set_up.returncode != 0 and "run 'make setup' first" in not_set_up.stderr
    environments.setup(project)
    # A server project tracks to the team's server; test_scale_out runs one. Here, as in a
    # CI job given MLFLOW_TRACKING_URI, the same code uses another store by configuration.
    env = {}
    if answers["mlflow_tracking"] == "server":
        env["MLFLOW_TRACKING_URI"] = f"sqlite:///{project / 'mlflow.db'}"
    run("make", "ci", cwd=project, **env)
    assert (project / "reports" / "promotion.json").is_file()
    if hostile_folder:  # nor does a base branch given to the pull-request report
        report = run(
            "make", "train-report", cwd=project, check=False,
            REPORT_BASE="$(shell touch pwned-base) `touch pwned-base`", **env,
        )  # fmt: skip
        assert report.returncode != 0  # no such branch: one error, after the pipeline ran
        assert "Traceback" not in report.stderr
        scoring = run(
            "make", "predict-batch", "INPUT=in.csv", "OUTPUT=out.csv", cwd=project, check=False,
            ENGINE="$(shell touch pwned-engine) `touch pwned-engine`", **env,
        )  # fmt: skip
        assert scoring.returncode != 0 and "error: unknown engine" in scoring.stderr
        assert not list(tmp_path.parent.rglob("pwned*"))
    run_what_the_answers_add(project, answers, env)


def run_what_the_answers_add(project, answers: dict, env: dict) -> None:
    """Batch scoring, the feature store, serving, docs, pre-commit and the orchestrator."""
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
