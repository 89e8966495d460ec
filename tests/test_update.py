"""`mlplate update`: three-way merges of template releases into edited projects, offline."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import copier
import pytest
import yaml

from mlplate.source import template_url
from mlplate.template import TEMPLATE_PATHS, template_root

MIGRATION = """_migrations:
  - version: v2.0.0
    command: git mv docs/runbook.md docs/operations.md
    when: "{{ _stage == 'before' }}"
"""


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def release(repo: Path, tag: str) -> None:
    git(repo, "add", "--all", "--force")
    git(repo, "commit", "--quiet", "-m", f"release {tag}")
    git(repo, "tag", tag)


def template_repository(repo: Path) -> Path:
    """A git repository holding this template, its first release tagged v1.0.0."""
    repo.mkdir(parents=True, exist_ok=True)
    for name in TEMPLATE_PATHS:
        source = template_root() / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, repo / name)
    git(repo, "init", "--quiet", "--initial-branch=main")
    release(repo, "v1.0.0")
    return repo


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> Path:
    """A template repository with v1.0.0, v2.0.0 (a rename by migration, a changed default)
    and v3.0.0 (new Makefile target, README line)."""
    repo = template_repository(tmp_path_factory.mktemp("template"))
    body = repo / "{{cookiecutter.__project_slug}}"
    (body / "docs" / "runbook.md").rename(body / "docs" / "operations.md")
    edit(body / "mkdocs.yml", "runbook.md", "operations.md")
    edit(body / "docs" / "index.md", "(runbook.md)", "(operations.md)")
    edit(body / "params.yaml", "min_delta: 0.002", "min_delta: 0.005")
    copier_yml = repo / "copier.yml"
    copier_yml.write_text(copier_yml.read_text().replace("_migrations:\n", MIGRATION, 1))
    release(repo, "v2.0.0")
    (body / "mlplate.mk").write_text(
        (body / "mlplate.mk").read_text() + "\nversion:  ## Template v3\n\t@echo v3\n"
    )
    (body / "README.md").write_text((body / "README.md").read_text() + "\nTemplate v3 notes.\n")
    release(repo, "v3.0.0")
    return repo


@pytest.fixture
def project(tmp_path, releases) -> Path:
    """A project generated at v1.0.0 and committed."""
    dest = tmp_path / "churn-model"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_copy(
            str(releases),
            dest,
            vcs_ref="v1.0.0",
            defaults=True,
            quiet=True,
            data={"project_name": "churn-model"},
        )
    git(dest, "init", "--quiet", "--initial-branch=main")
    git(dest, "add", "--all")
    git(dest, "commit", "--quiet", "-m", "generated at v1")
    return dest


def commit(project: Path, message: str) -> None:
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", message)


def test_update_to_v3_keeps_every_user_edit_and_applies_the_migration(project, cli):
    readme = project / "README.md"
    edit(readme, "## Quickstart", "## Our notes\n\nteam-specific\n\n## Quickstart")
    makefile = project / "Makefile"
    makefile.write_text(makefile.read_text() + "\ndeploy-internal:  ## ours\n\t@echo ours\n")
    build = project / "src" / "churn_model" / "features.py"
    edit(build, "import pandas as pd", "# our feature notes\nimport pandas as pd")
    commit(project, "our edits")

    result = cli("update", str(project), "--to", "v3.0.0", "--trust")
    assert result.exit_code == 0, result.stderr
    assert "v1.0.0 -> v3.0.0" in result.stdout
    assert "team-specific" in readme.read_text()
    assert "Template v3 notes." in readme.read_text()
    assert "deploy-internal:" in makefile.read_text()
    assert "version:  ## Template v3" in (project / "mlplate.mk").read_text()
    assert "# our feature notes" in build.read_text()
    assert not (project / "docs" / "runbook.md").exists()
    assert "# Runbook" in (project / "docs" / "operations.md").read_text()
    assert "min_delta: 0.005" in (project / "params.yaml").read_text()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v3.0.0"
    assert answers["project_name"] == "churn-model"


def test_a_conflicting_edit_exits_1_and_names_the_file(project, cli):
    edit(project / "params.yaml", "min_delta: 0.002", "min_delta: 0.01")
    commit(project, "stricter gate")
    result = cli("update", str(project), "--to", "v2.0.0", "--trust")
    assert result.exit_code == 1
    assert "needs a person in 1 file(s)" in result.stderr
    assert "params.yaml" in result.stderr
    assert "<<<<<<< " in (project / "params.yaml").read_text()


def test_a_dirty_tree_is_refused(project, cli):
    (project / "README.md").write_text("changed\n")
    result = cli("update", str(project))
    assert result.exit_code == 1
    assert "has uncommitted changes; commit or stash them" in result.stderr


def test_a_folder_that_is_not_a_repository_is_refused(tmp_path, releases, cli):
    dest = tmp_path / "plain"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_copy(str(releases), dest, vcs_ref="v1.0.0", defaults=True, quiet=True)
    result = cli("update", str(dest))
    assert result.exit_code == 1
    assert "is not in a git repository; run `git init`" in result.stderr


def test_dry_run_shows_the_diff_and_changes_nothing(project, cli):
    tree = git(project, "rev-parse", "HEAD^{tree}")
    result = cli("update", str(project), "--dry-run", "--trust")
    assert result.exit_code == 0, result.stderr
    assert "min_delta: 0.005" in result.stdout  # the diff is shown
    assert "would change" in result.stdout
    assert git(project, "rev-parse", "HEAD^{tree}") == tree
    assert git(project, "status", "--porcelain") == ""


def test_changing_an_answer_adds_and_removes_files(project, cli):
    result = cli("update", str(project), "--to", "v1.0.0", "--data", "ci=gitlab", "--trust")
    assert result.exit_code == 0, result.stderr
    assert (project / ".gitlab-ci.yml").is_file()
    assert not (project / ".github").exists()


def test_an_unknown_answer_is_refused(project, cli):
    result = cli("update", str(project), "--data", "colour=red")
    assert result.exit_code == 1
    assert "unknown question 'colour'" in result.stderr


def test_projects_from_mlplate_new_update_from_the_bundled_history(tmp_path, cli):
    dest = tmp_path / "fresh"
    assert cli("new", str(dest), "--defaults").exit_code == 0
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == template_url() == "https://github.com/mlplate/mlplate.git"
    result = cli("update", str(dest), "--data", "ci=none")
    assert result.exit_code == 0, result.stderr
    assert not (dest / ".github").exists()


def test_an_existing_project_scales_out_by_changing_answers(tmp_path, cli):
    """Local remote and no orchestrator -> S3 remote and Kubeflow, code edits kept."""
    dest = tmp_path / "fresh"
    assert cli("new", str(dest), "--defaults").exit_code == 0
    model = dest / "src" / "fresh" / "model.py"
    edit(model, "from typing import Any\n", "from typing import Any  # tuned by us\n")
    commit(dest, "our edit")
    result = cli(
        "update",
        str(dest),
        "--data",
        "dvc_remote=s3",
        "--data",
        "s3_bucket=team-data",
        "--data",
        "orchestrator=kubeflow",
    )
    assert result.exit_code == 0, result.stderr
    assert "url = s3://team-data/fresh/dvc" in (dest / ".dvc" / "config").read_text()
    assert "mlplate-runtime[serving,s3,kubeflow]==" in (dest / "pyproject.toml").read_text()
    assert (dest / "pipeline.Dockerfile").is_file()
    assert "# tuned by us" in model.read_text()
    commit(dest, "scaled out")
    assert cli("check", str(dest)).exit_code == 0
