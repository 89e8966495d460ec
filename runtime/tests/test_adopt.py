"""`use-data` and params.yaml mistakes: one clear line, and nothing written when input is bad."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlplate_runtime.config import load_settings
from mlplate_runtime.data.adopt import dataset_name, use_data
from mlplate_runtime.errors import DataValidationError, ProjectError
from support import PROJECT_ROOT


@pytest.fixture
def project(tmp_path):
    """A copy of the project's params.yaml and contract, to change freely."""
    (tmp_path / "data").mkdir()
    for name in ("params.yaml", "data/contract.yaml"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    return tmp_path


def _unchanged(project):
    return {name: (project / name).read_text() for name in ("params.yaml", "data/contract.yaml")}


def _table(folder, **columns):
    path = folder / "mine.csv"
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("make", "target", "error", "message"),
    [
        (lambda d: d / "nowhere.csv", "y", DataValidationError, "does not exist"),
        (
            lambda d: _table(d, x=range(30), y=[0, 1] * 15),
            "label",
            ProjectError,
            "TARGET 'label' is not a column",
        ),
        (
            lambda d: _table(d, x=range(5), y=[0, 1, 0, 1, 0]),
            "y",
            DataValidationError,
            "at least 20 are needed",
        ),
        (
            lambda d: _table(d, x=[1.5, np.inf] * 15, y=range(30)),
            "y",
            DataValidationError,
            "'x': infinite values at lines 3",
        ),
        (lambda d: _table(d, x=range(30), y=["a"] * 30), "y", DataValidationError, "single class"),
    ],
)
def test_bad_input_to_use_data_is_one_line_and_changes_nothing(
    project, tmp_path, make, target, error, message
):
    source = make(tmp_path)
    before = _unchanged(project)
    with pytest.raises(error) as raised:
        use_data(load_settings(project / "params.yaml"), source, target=target)
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert _unchanged(project) == before
    assert not (project / "data" / "raw").exists()


def test_dataset_names_are_safe_file_and_model_names():
    assert dataset_name(Path("Breast Cancer (2026).CSV")) == "breast-cancer-2026"
    assert dataset_name(Path("___.csv")) == "dataset"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("test_size: 0.2", "test_sise: 0.2"),
            "data.test_sise: unknown key (did you mean 'test_size'?)",
        ),
        (("test_size: 0.2", "test_size: lots"), "data.test_size: Input should be a valid number"),
        (
            ("raw_path: data/raw/", "raw_path: elsewhere/"),
            "data.raw_path: Value error, must be a file directly in data/raw/",
        ),
        (("seed: 42", "seed: [42"), "is not valid YAML"),
    ],
)
def test_a_params_mistake_is_one_line_naming_the_key(project, edit, message):
    params = project / "params.yaml"
    old, new = edit
    assert old in params.read_text()
    params.write_text(params.read_text().replace(old, new, 1))
    with pytest.raises(ProjectError) as raised:
        load_settings(params)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_ingest_takes_a_valid_drop_and_refuses_a_bad_one_without_touching_the_data(project):
    import subprocess
    import sys

    from mlplate_runtime.data.synthetic import synthetic_frame, write_table
    from mlplate_runtime.data.versioning import ingest_drop

    subprocess.run(
        [sys.executable, "-m", "dvc", "init", "--no-scm", "--quiet"], cwd=project, check=True
    )
    settings = load_settings(project / "params.yaml")
    raw = settings.path(settings.params.data.raw_path)
    suffix = raw.suffix
    drop = project / "landing" / f"drop{suffix}"
    drop.parent.mkdir()
    write_table(drop, synthetic_frame(settings.contract, 300, seed=3))
    assert "300 rows, valid" in ingest_drop(settings, drop)
    assert raw.read_bytes() == drop.read_bytes()
    pointer = project / "data" / "raw.dvc"
    tracked = pointer.read_text()

    broken = project / "landing" / f"broken{suffix}"
    frame = synthetic_frame(settings.contract, 300, seed=4)
    write_table(broken, frame.drop(columns=[settings.contract.features[0]]))
    with pytest.raises(DataValidationError, match="breaks the data contract"):
        ingest_drop(settings, broken)
    assert raw.read_bytes() == drop.read_bytes()  # the current data is untouched
    assert pointer.read_text() == tracked
    wrong = project / "landing" / "drop.json"
    wrong.write_text("{}")
    with pytest.raises(ProjectError, match="deliver the drop in the same format"):
        ingest_drop(settings, wrong)


def test_a_symlink_in_data_raw_is_refused_and_never_tracked(project, tmp_path):
    import subprocess
    import sys

    from mlplate_runtime.data.versioning import dvc_add

    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=project, check=True)
    raw = project / "data" / "raw"
    raw.mkdir()
    (raw / "real.csv").write_text("a,b\n1,2\n")
    secret = tmp_path / "secret.txt"
    secret.write_text("password\n")
    (raw / "extra.csv").symlink_to(secret)
    settings = load_settings(project / "params.yaml")
    with pytest.raises(ProjectError, match=r"extra.csv is a symbolic link; DVC would track"):
        dvc_add(settings, raw)
    assert not (project / "data" / "raw.dvc").exists()
    # use-data writes through no link either: the folder is refused before anything changes
    before = _unchanged(project)
    source = _table(tmp_path, x=list(range(50)), y=[0, 1] * 25)
    with pytest.raises(ProjectError, match="is a symbolic link"):
        use_data(settings, source, target="y")
    assert _unchanged(project) == before and secret.read_text() == "password\n"


def test_an_interrupted_adoption_changes_nothing(project, tmp_path, monkeypatch):
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=project, check=True)
    before = _unchanged(project)
    source = _table(tmp_path, x=list(range(50)), y=[0, 1] * 25)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # the copy stops half way (Ctrl-C, a full disk)

    monkeypatch.setattr(shutil, "copyfile", interrupted)
    with pytest.raises(KeyboardInterrupt):
        use_data(load_settings(project / "params.yaml"), source, target="y")
    assert _unchanged(project) == before  # no contract, params or card for data not there
    assert not list((project / "data" / "raw").glob("*"))  # no partial file left
