"""Which project the runtime works for: the installed one; with several, the one here."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from mlplate_runtime import project
from mlplate_runtime.errors import ProjectError


@pytest.fixture
def installed(monkeypatch):
    def install(**projects: str) -> None:
        points = [
            EntryPoint(name, package, project.ENTRY_POINT_GROUP)
            for name, package in projects.items()
        ]
        monkeypatch.setattr(project, "entry_points", lambda group: points)
        project.current_project.cache_clear()

    yield install
    project.current_project.cache_clear()


def test_the_one_installed_project_is_the_project(installed):
    installed(**{"churn-model": "churn_model"})
    assert project.current_project().package == "churn_model"
    assert project.command_name() == "churn_model"


def test_with_several_the_one_in_the_working_folder_is_chosen(installed, tmp_path, monkeypatch):
    installed(**{"churn-model": "churn_model", "spend-model": "spend_model"})
    (tmp_path / "src" / "spend_model").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert project.current_project().name == "spend-model"


def test_with_several_and_none_here_the_error_says_how_to_choose(installed, tmp_path, monkeypatch):
    installed(**{"churn-model": "churn_model", "spend-model": "spend_model"})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ProjectError, match="set MLPLATE_PROJECT to the one to run"):
        project.current_project()
    monkeypatch.setenv("MLPLATE_PROJECT", "churn-model")
    project.current_project.cache_clear()
    assert project.current_project().package == "churn_model"


def test_an_unknown_mlplate_project_names_the_installed_ones(installed, monkeypatch):
    installed(**{"churn-model": "churn_model"})
    monkeypatch.setenv("MLPLATE_PROJECT", "nope")
    with pytest.raises(ProjectError, match=r"installed: \['churn-model'\]"):
        project.current_project()


def test_without_a_project_the_runtime_runs_on_its_own(installed, tmp_path, monkeypatch):
    installed()
    monkeypatch.chdir(tmp_path)
    assert project.current_project().package is None
    assert project.command_name() == project.RUNTIME_COMMAND
    assert project.team_module("features") is None


# What only the team can choose: its data, names, the metric and its thresholds, the estimator
# and its search space. Everything else params.yaml holds has the same default in code.
TEAM_CHOICES = (
    "data.raw_path",
    "model.",
    "evaluate.primary_metric",
    "promotion.min_delta",
    "promotion.max_regression",
    "mlflow.experiment",
    "mlflow.registered_model",
    "tune.space",
    "feature_store.",
)


def _leaves(section: dict, prefix: str = ""):
    for key, value in section.items():
        if isinstance(value, dict) and value and not key.startswith("model."):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


@pytest.mark.parametrize("project", ["classification", "regression"])
def test_every_setting_but_the_teams_choices_has_its_default_in_code(project):
    """A release adds a params.yaml line only when a team must choose: a new setting comes
    with its default in code, the value params.yaml is generated with."""
    import copy

    import yaml

    from mlplate_runtime.config import Params
    from support import PROJECTS

    raw = yaml.safe_load((PROJECTS / project / "params.yaml").read_text())
    full = Params.model_validate(raw).model_dump(mode="json")
    for leaf in _leaves(raw):
        if leaf.startswith(TEAM_CHOICES):
            continue
        *parents, name = leaf.split(".")
        trimmed = copy.deepcopy(raw)
        section = trimmed
        for key in parents:
            section = section[key]
        del section[name]
        assert Params.model_validate(trimmed).model_dump(mode="json") == full, leaf


BOMB = """
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
my_stage: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
"""


@pytest.mark.parametrize("target", ["params.yaml", "data/contract.yaml"])
def test_an_alias_bomb_in_params_or_the_contract_is_one_line(tmp_path, monkeypatch, target):
    import shutil

    from typer.testing import CliRunner

    from mlplate_runtime import cli
    from support import PROJECT_ROOT

    (tmp_path / "data").mkdir()
    for name in ("params.yaml", "data/contract.yaml"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    path = tmp_path / target
    path.write_text(path.read_text() + BOMB)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli.app, ["check-params"])
    assert result.exit_code == 1
    assert "expands (through YAML aliases) to more than 1,000,000 values" in result.output
    assert len(result.output.strip().splitlines()) == 1
