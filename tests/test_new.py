"""`mlplate new` on good input: a complete project, committed to git."""

from __future__ import annotations

import subprocess

import tomllib
import yaml
from markupsafe import escape

from mlplate import __version__


def test_new_with_defaults_creates_a_committed_project_named_after_the_folder(cli, tmp_path):
    dest = tmp_path / "churn-model"
    result = cli("new", str(dest), "--defaults")
    assert result.exit_code == 0, result.stderr
    assert "make setup" in result.stdout
    project = tomllib.loads((dest / "pyproject.toml").read_text())["project"]
    assert project["name"] == "churn-model"
    assert (dest / "src" / "churn_model" / "__init__.py").is_file()
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=dest, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""
    log = subprocess.run(
        ["git", "log", "--format=%s"], cwd=dest, capture_output=True, text=True, check=True
    )
    assert log.stdout.strip() == f"Generate churn-model with mlplate {__version__}"


def test_new_records_answers_for_copier_update(cli, tmp_path):
    dest = tmp_path / "proj"
    cli("new", str(dest), "--defaults", "--data", "ci=gitlab", "--data", "license=Apache-2.0")
    recorded = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert recorded["ci"] == "gitlab"
    assert recorded["license"] == "Apache-2.0"
    assert "package_name" not in recorded  # derived values are not answers


def test_new_reads_an_answers_file_and_data_overrides_it(cli, tmp_path):
    answers = tmp_path / "answers.yml"
    answers.write_text("_src_path: ignored\nproject_name: Fraud Detector\nci: none\n")
    dest = tmp_path / "proj"
    result = cli("new", str(dest), "--answers", str(answers), "--data", "ci=gitlab", "--no-git")
    assert result.exit_code == 0, result.stderr
    assert (dest / "src" / "fraud_detector").is_dir()
    assert (dest / ".gitlab-ci.yml").is_file()
    assert not (dest / ".github").exists()
    assert not (dest / ".git").exists()


def test_license_text_follows_the_answer(cli, tmp_path):
    expected = {
        "MIT": "Permission is hereby granted, free of charge",
        "Apache-2.0": "Apache License",
        "BSD-3-Clause": "Redistribution and use in source and binary forms",
        "Proprietary": "All rights reserved.",
    }
    for index, (license_name, phrase) in enumerate(expected.items()):
        dest = tmp_path / f"licensed-{index}"
        result = cli(
            "new", str(dest), "--defaults", "--no-git", "--data", f"license={license_name}"
        )
        assert result.exit_code == 0, result.stderr
        text = (dest / "LICENSE").read_text()
        assert phrase in text
        others = [p for name, p in expected.items() if name != license_name]
        assert not any(other in text for other in others)


def test_version_flag_prints_the_package_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"mlplate {__version__}"


def test_both_engines_give_the_same_project_answers_file_included(cli, tmp_path):
    from tests.conftest import tree

    options = ["--defaults", "--no-git", "--data", "dvc_remote=s3", "--data", "task=regression"]
    for engine in ("cookiecutter", "copier"):
        (tmp_path / engine).mkdir()
        result = cli("new", str(tmp_path / engine / "same-model"), "--engine", engine, *options)
        assert result.exit_code == 0, result.stderr
        assert f"with {engine} in" in result.stdout
    by_cookiecutter = tree(tmp_path / "cookiecutter" / "same-model")
    assert by_cookiecutter == tree(tmp_path / "copier" / "same-model")
    answers = yaml.safe_load(by_cookiecutter[".copier-answers.yml"])
    assert answers["_commit"] == f"v{__version__}"
    assert answers["s3_bucket"] == "ml-data"  # asked because dvc_remote is s3
    assert "mlflow_tracking_uri" not in answers  # not asked: mlflow_tracking is local


def test_interactive_prompts_skip_questions_that_do_not_apply(monkeypatch, tmp_path):
    import typer

    from mlplate.cli import _prompt_missing

    asked: list[str] = []

    def answer_default(text, default=None):
        asked.append(text.split(":", 1)[0])
        return default

    monkeypatch.setattr(typer, "prompt", answer_default)
    _prompt_missing({"dvc_remote": "local"}, tmp_path / "p")
    assert "s3_bucket" not in asked and "task" in asked
    asked.clear()
    answers = _prompt_missing({"dvc_remote": "s3", "mlflow_tracking": "server"}, tmp_path / "p")
    assert {"s3_bucket", "s3_endpoint_url", "mlflow_tracking_uri"} <= set(asked)
    assert answers["s3_bucket"] == "ml-data"


def test_answers_are_data_never_templates_with_either_engine(cli, tmp_path):
    """A Jinja payload in an answer is written as text; it never runs (security, issue 15)."""
    marker = tmp_path / "pwned"
    payload = f"{{{{ cycler.__init__.__globals__.os.system('touch {marker}') }}}}"
    text = "x {{ 7*7 }} y {% raw %} ${{ github.token }}"
    for engine in ("cookiecutter", "copier"):
        dest = tmp_path / f"proj-{engine}"
        result = cli(
            "new", str(dest), "--defaults", "--engine", engine,
            "--data", f"description={text}", "--data", f"author_name={payload}",
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        assert not marker.exists()
        assert f"\n{text}\n" in (dest / "README.md").read_text()
        assert (
            tomllib.loads((dest / "pyproject.toml").read_text())["project"]["description"] == text
        )


def test_free_text_answers_are_quoted_for_toml_yaml_and_python(cli, tmp_path):
    """Quotes, colons, backslashes and accents in answers keep every file parseable."""
    description = 'Churn model: predicts who "cancels" \\ next month, café'
    author = 'Ana "the data" O\'Neil'
    dest = tmp_path / "proj"
    result = cli(
        "new", str(dest), "--defaults", "--data", "orchestrator=kubeflow",
        "--data", f"description={description}", "--data", f"author_name={author}",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    project = tomllib.loads((dest / "pyproject.toml").read_text())["project"]
    assert project["description"] == description
    assert project["authors"][0]["name"] == author
    assert yaml.safe_load((dest / "mkdocs.yml").read_text())["site_description"] == str(
        escape(description)
    )  # the theme writes it into HTML as is
    for source in (dest / "src").rglob("*.py"):
        compile(source.read_text(), str(source), "exec")


def test_payloads_in_answers_files_and_presets_stay_data(cli, tmp_path):
    """The same payload through --answers and a team preset: written literally, never run."""
    marker = tmp_path / "pwned"
    payload = f"{{{{ cycler.__init__.__globals__.os.system('touch {marker}') }}}}"
    answers = tmp_path / "answers.yml"
    answers.write_text(yaml.safe_dump({"description": payload}))
    preset = tmp_path / "preset.yml"
    preset.write_text(yaml.safe_dump({"author_name": payload, "locked": {"ci": "github"}}))
    for engine in ("cookiecutter", "copier"):
        dest = tmp_path / f"proj-{engine}"
        result = cli("new", str(dest), "--defaults", "--engine", engine,
                     "--answers", str(answers), "--preset", str(preset))  # fmt: skip
        assert result.exit_code == 0, result.stderr
        assert not marker.exists()
        project = tomllib.loads((dest / "pyproject.toml").read_text())["project"]
        assert project["description"] == payload
        assert project["authors"][0]["name"] == payload
