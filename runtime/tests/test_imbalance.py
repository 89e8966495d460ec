"""Imbalanced classes through `use-data`: class weights and a fitting primary metric written to
params.yaml, said in its output, then trained, evaluated per class and registered."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from mlplate_runtime import cli
from mlplate_runtime.config import load_settings
from mlplate_runtime.data.adopt import use_data
from mlplate_runtime.params_file import set_values
from support import PROJECT_ROOT


@pytest.fixture
def project(tmp_path):
    """A copy of the project's params.yaml and contract, with DVC (use-data tracks the data)."""
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    for relative in ("params.yaml", "data/contract.yaml"):
        shutil.copy(PROJECT_ROOT / relative, root / relative)
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=root, check=True)
    return root


def classes_table(path, counts, seed=0):
    """Two numeric columns that separate the classes, ``counts`` rows of each class."""
    from sklearn.datasets import make_classification

    total = sum(counts.values())
    x, y = make_classification(
        n_samples=total,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=len(counts),
        n_clusters_per_class=1,
        weights=[count / total for count in counts.values()],
        flip_y=0,
        random_state=seed,
    )
    names = np.asarray(list(counts))
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"]).round(4).assign(kind=names[y])
    frame.to_csv(path, index=False)
    return frame


def _model_section(project):
    return yaml.safe_load((project / "params.yaml").read_text())["model"]


@pytest.mark.parametrize(
    ("counts", "metric"),
    [
        ({"common": 330, "middle": 100, "rare": 20}, "f1_macro"),
        ({"no": 420, "yes": 30}, "roc_auc"),
    ],
)
def test_a_class_under_a_tenth_of_the_rows_gets_class_weights_and_a_metric_that_sees_it(
    project, tmp_path, counts, metric
):
    source = tmp_path / "orders.csv"
    classes_table(source, counts)
    before = _model_section(project)
    adoption = use_data(load_settings(project / "params.yaml"), source, target="kind")
    settings = load_settings(project / "params.yaml")
    assert settings.params.model.class_weight == "balanced"
    assert settings.params.evaluate.primary_metric == metric
    assert _model_section(project) == {**before, "class_weight": "balanced"}  # nothing else
    rare = min(counts, key=counts.__getitem__)
    (note,) = [note for note in adoption.notes if "class_weight" in note]
    share = counts[rare] / sum(counts.values())
    assert f"{rare!r}, is {share:.1%} of the rows (under 10%)" in note and metric in note


def test_balanced_enough_classes_and_regression_leave_class_weight_out(project, tmp_path):
    source = tmp_path / "orders.csv"
    classes_table(source, {"a": 200, "b": 160, "c": 40})  # the rarest is 10%: not rare
    adoption = use_data(load_settings(project / "params.yaml"), source, target="kind")
    assert "class_weight" not in _model_section(project)
    assert load_settings(project / "params.yaml").params.evaluate.primary_metric == "roc_auc"
    assert not [note for note in adoption.notes if "class_weight" in note]
    regression = tmp_path / "amounts.csv"
    pd.DataFrame({"x": range(60), "y": [float(i % 7) for i in range(60)]}).to_csv(regression)
    use_data(load_settings(project / "params.yaml"), regression, target="y", task="regression")
    assert "class_weight" not in _model_section(project)


def test_use_data_says_what_it_set_for_imbalanced_classes(project, tmp_path, monkeypatch):
    source = tmp_path / "orders.csv"
    classes_table(source, {"common": 330, "middle": 100, "rare": 20})
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli.app, ["use-data", str(source), "--target", "kind"])
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if "class_weight" in line]
    assert line.startswith("review: the rarest class of 'kind', 'rare', is 4.4% of the rows")
    assert "model.class_weight: balanced" in line and "f1_macro" in line


def test_set_values_adds_a_missing_key_to_its_section_only_when_asked(tmp_path):
    from mlplate_runtime.errors import ProjectError

    params = tmp_path / "params.yaml"
    params.write_text("model:   # the estimator\n  type: linear\ninline: {a: 1}\n")
    with pytest.raises(ProjectError, match=r"no key 'model\.class_weight'"):
        set_values(params, {"model.class_weight": "balanced"})
    set_values(params, {"model.class_weight": "balanced"}, create=True)
    assert yaml.safe_load(params.read_text())["model"] == {
        "class_weight": "balanced",
        "type": "linear",
    }
    for key in ("inline.b", "nowhere.b", "top"):
        with pytest.raises(ProjectError):
            set_values(params, {key: 1}, create=True)


def test_an_imbalanced_dataset_trains_weighted_and_reports_each_class(
    project, tmp_path, mlflow_store
):
    from mlplate_runtime.features.build import feature_matrix, read_features
    from mlplate_runtime.models.registry import register
    from mlplate_runtime.models.store import load_model
    from mlplate_runtime.models.tasks import task_for
    from mlplate_runtime.models.train import fit_model
    from test_pipeline import run_pipeline

    source = tmp_path / "orders.csv"
    frame = classes_table(source, {"common": 330, "middle": 100, "rare": 20}, seed=1)
    use_data(load_settings(project / "params.yaml"), source, target="kind")
    settings = load_settings(project / "params.yaml").model_copy(
        update={"tracking_uri": mlflow_store}
    )
    _, metrics = run_pipeline(settings, frame)
    written = json.loads(settings.path(settings.params.evaluate.metrics_path).read_text())
    assert set(written["per_class"]) == {"common", "middle", "rare"}
    assert written["per_class"]["rare"]["support"] == 4  # 20% of 20 rare rows, stratified
    assert 0.5 < metrics["f1_macro"] <= 1.0
    report = register(settings, allow_uncommitted=True)
    assert report["promote"] and report["metric"] == "f1_macro"
    assert report["secondary"]["metric"] == "log_loss"

    model = load_model(settings.path(settings.params.train.model_path), settings)
    assert model.named_steps["estimator"].class_weight == "balanced"
    # Weighted, the model gives the rare class more probability than it would unweighted.
    train, test = read_features(settings, "train"), read_features(settings, "test")
    task = task_for(settings)
    rare = settings.contract.classes.index("rare")
    model_section = settings.params.model.model_copy(update={"class_weight": None})
    unweighted = settings.model_copy(
        update={"params": settings.params.model_copy(update={"model": model_section})}
    )
    plain = fit_model(
        unweighted,
        feature_matrix(train, settings.contract),
        task.labels(train[settings.contract.target]),
    )
    held = feature_matrix(test, settings.contract)
    assert task.scores(model, held)[:, rare].mean() > task.scores(plain, held)[:, rare].mean()
