"""Bad input to `mlplate new`: one clear line per problem, exit 1, nothing on disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlplate import render


def listing(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("project_name=", "project_name '' is invalid"),
        ("project_name=1model", "start with a letter"),
        ("project_name=my model!", "use only (Latin) letters, digits"),
        ("project_name=class", "a Python keyword"),
        ("project_name=" + "m" * 41, "is 41 characters long; use at most 40"),
        ("project_name=json", "a standard-library module"),
        ("project_name=mlflow", "a module the generated project imports"),
        ("project_name=dvc", "a module the generated project imports"),
        ("project_name=sklearn", "a module the generated project imports"),
        ("project_name=test", "a module the generated project imports"),
        ("author_email=not-an-email", "author_email 'not-an-email' is not an email address"),
        ("ci=circleci", "ci='circleci' is not a choice; use one of: github, gitlab, none"),
        ("python_version=2.7", "is not a choice"),
        ("colour=blue", "unknown question 'colour'; run `mlplate options`"),
        ("no-equals-sign", "is not KEY=VALUE"),
    ],
)
def test_new_rejects_bad_answers_and_writes_nothing(cli, tmp_path, pair, expected):
    result = cli("new", str(tmp_path / "proj"), "--defaults", "--data", pair)
    assert result.exit_code == 1
    assert expected in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        (
            ["dvc_remote=s3", "s3_bucket=Team_Data"],
            "s3_bucket 'Team_Data' is not a valid bucket name",
        ),
        (["dvc_remote=s3", "s3_bucket=ab"], "s3_bucket 'ab' is not a valid bucket name"),
        (
            ["dvc_remote=s3", "s3_endpoint_url=minio:9000"],
            "s3_endpoint_url 'minio:9000' is not an http(s) URL",
        ),
        (
            ["mlflow_tracking=server", "mlflow_tracking_uri=mlflow.internal"],
            "is not an http(s) URL",
        ),
        (["dvc_remote=gcs"], "dvc_remote='gcs' is not a choice; use one of: local, s3, none"),
        (["orchestrator=airflow"], "use one of: none, kubeflow, azureml, sagemaker"),
        (["task=ranking"], "use one of: classification, regression"),
    ],
)
def test_new_rejects_bad_infrastructure_answers(cli, tmp_path, pairs, expected):
    options = [item for pair in pairs for item in ("--data", pair)]
    result = cli("new", str(tmp_path / "proj"), "--defaults", *options)
    assert result.exit_code == 1
    assert expected in result.stderr
    assert result.stderr.startswith("error: ")
    assert listing(tmp_path) == []


def test_s3_answers_are_only_checked_when_the_remote_is_s3(cli, tmp_path):
    result = cli("new", str(tmp_path / "proj"), "--defaults", "--no-git", "--data", "s3_bucket=X_")
    assert result.exit_code == 0, result.stderr
    assert "s3://" not in (tmp_path / "proj" / ".dvc" / "config").read_text()


def test_new_reports_every_bad_answer_on_its_own_line(cli, tmp_path):
    result = cli(
        "new", str(tmp_path / "p"), "--data", "ci=x", "--data", "author_email=y", "--defaults"
    )
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1
    assert len(lines) == 2
    assert all(line.startswith("error: ") for line in lines)


def test_new_refuses_non_empty_destination_and_keeps_its_files(cli, tmp_path):
    dest = tmp_path / "existing"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    result = cli("new", str(dest), "--defaults")
    assert result.exit_code == 1
    assert "is not empty" in result.stderr
    assert "mlplate update" in result.stderr
    assert listing(dest) == ["notes.txt"]
    assert (dest / "notes.txt").read_text() == "mine"
    assert listing(tmp_path) == ["existing"]


def test_new_accepts_an_empty_destination_folder(cli, tmp_path):
    dest = tmp_path / "empty"
    dest.mkdir()
    result = cli("new", str(dest), "--defaults", "--no-git")
    assert result.exit_code == 0, result.stderr
    assert (dest / "pyproject.toml").is_file()


def test_new_refuses_a_destination_that_is_a_file(cli, tmp_path):
    (tmp_path / "afile").write_text("x")
    result = cli("new", str(tmp_path / "afile"), "--defaults")
    assert result.exit_code == 1
    assert "is a file" in result.stderr


def test_new_refuses_a_missing_parent_folder(cli, tmp_path):
    result = cli("new", str(tmp_path / "no" / "such" / "proj"), "--defaults")
    assert result.exit_code == 1
    assert "does not exist; create it first" in result.stderr
    assert listing(tmp_path) == []


def test_new_refuses_an_unwritable_parent(cli, tmp_path):
    if os.geteuid() == 0:
        parent = Path("/sys")  # root ignores permission bits; sysfs refuses mkdir even to root
    else:
        parent = tmp_path / "readonly"
        parent.mkdir()
        parent.chmod(0o555)
    result = cli("new", str(parent / "proj"), "--defaults")
    assert result.exit_code == 1
    assert f"cannot write in {parent}" in result.stderr
    assert "writable folder" in result.stderr
    assert not (parent / "proj").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("project_name: [unclosed\n", "is not valid YAML at line"),
        ("- just\n- a list\n", "must hold a mapping"),
        ("ci: travis\n", "ci='travis' is not a choice"),
        ("favourite: 3\n", "unknown question 'favourite'"),
    ],
)
def test_new_rejects_a_broken_answers_file(cli, tmp_path, content, expected):
    answers = tmp_path / "answers.yml"
    answers.write_text(content)
    result = cli("new", str(tmp_path / "proj"), "--answers", str(answers), "--defaults")
    assert result.exit_code == 1
    assert expected in result.stderr
    assert listing(tmp_path) == ["answers.yml"]


def test_new_rejects_an_unreadable_answers_file(cli, tmp_path):
    result = cli("new", str(tmp_path / "proj"), "--answers", str(tmp_path / "missing.yml"))
    assert result.exit_code == 1
    assert "cannot read answers file" in result.stderr
    assert listing(tmp_path) == []


def test_new_rejects_an_unknown_engine(cli, tmp_path):
    result = cli("new", str(tmp_path / "proj"), "--defaults", "--engine", "yeoman")
    assert result.exit_code == 2  # a usage error, listing the choices
    assert "'yeoman' is not one of 'cookiecutter', 'copier'" in result.stderr
    assert listing(tmp_path) == []


@pytest.mark.parametrize("engine", ["copier", "cookiecutter"])
def test_failure_half_way_leaves_nothing_behind(cli, tmp_path, monkeypatch, engine):
    real = render.RENDERERS[engine]

    def render_then_fail(out, answers):
        real(out, answers)
        assert (out / "pyproject.toml").is_file()
        raise OSError("disk full")

    monkeypatch.setitem(render.RENDERERS, engine, render_then_fail)
    result = cli("new", str(tmp_path / "proj"), "--defaults", "--engine", engine)
    assert result.exit_code == 2
    assert "internal error, rerun with --debug" in result.stderr
    assert listing(tmp_path) == []


def test_git_failure_leaves_nothing_behind(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")  # no git on PATH
    result = cli("new", str(tmp_path / "proj"), "--defaults")
    assert result.exit_code == 1
    assert "git is not installed; install git or pass --no-git" in result.stderr
    assert listing(tmp_path) == []


SIGTERM_MIDWAY = """
import os, signal, sys, time
from mlplate import cli, render

real = render.RENDERERS["cookiecutter"]

def render_then_get_terminated(out, answers):
    real(out, answers)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(10)

render.RENDERERS["cookiecutter"] = render_then_get_terminated
sys.argv = ["mlplate", "new", sys.argv[1], "--defaults"]
cli.run()
"""


def test_sigterm_during_generation_leaves_nothing_behind(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", SIGTERM_MIDWAY, str(tmp_path / "proj")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 130, result.stderr
    assert "interrupted" in result.stderr
    assert listing(tmp_path) == []


def test_a_workspace_left_by_a_killed_run_is_removed_by_the_next(cli, tmp_path):
    import subprocess

    probe = subprocess.Popen(["true"])  # its pid no longer runs once it has exited
    probe.wait()
    abandoned = tmp_path / ".proj.mlplate-abc123"
    (abandoned / "project").mkdir(parents=True)
    (abandoned / render.WORKSPACE_OWNER).write_text(str(probe.pid))
    running = tmp_path / ".proj.mlplate-def456"  # another mlplate, still at work: kept
    running.mkdir()
    (running / render.WORKSPACE_OWNER).write_text(str(os.getpid()))
    result = cli("new", str(tmp_path / "proj"), "--defaults", "--no-git")
    assert result.exit_code == 0, result.stderr
    assert listing(tmp_path) == [".proj.mlplate-def456", "proj"]


def test_new_refuses_a_dangling_symlink_and_a_file_as_parent(cli, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere")
    result = cli("new", str(link), "--defaults")
    assert result.exit_code == 1
    assert "is a symbolic link; choose a new folder name" in result.stderr
    (tmp_path / "afile").write_text("x")
    result = cli("new", str(tmp_path / "afile" / "sub"), "--defaults")
    assert result.exit_code == 1
    assert "afile is a file, not a folder" in result.stderr
    assert listing(tmp_path) == ["afile", "link"]
