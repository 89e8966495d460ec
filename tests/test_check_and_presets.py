"""`mlplate check` (drift from the template and preset) and team presets with locked answers."""

from __future__ import annotations

import json

import yaml

from mlplate.presets import PRESET_FILE
from tests.test_update import commit, git, project, releases  # noqa: F401  (fixtures)


def new_project(cli, tmp_path, *args: str):
    dest = tmp_path / "proj"
    result = cli("new", str(dest), "--defaults", *args)
    assert result.exit_code == 0, result.stderr
    return dest


def test_check_is_clean_on_a_fresh_project(cli, tmp_path):
    dest = new_project(cli, tmp_path)
    result = cli("check", str(dest))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "ok: the project follows the template" in result.stdout


def test_check_reports_a_deleted_workflow_and_a_modified_makefile(cli, tmp_path):
    dest = new_project(cli, tmp_path)
    (dest / ".github" / "workflows" / "monitor.yml").unlink()
    (dest / "mlplate.mk").write_text((dest / "mlplate.mk").read_text() + "\nmine:\n\t@true\n")
    (dest / "Makefile").write_text((dest / "Makefile").read_text() + "\nours:\n\t@true\n")
    (dest / "params.yaml").write_text((dest / "params.yaml").read_text() + "\n# tuned\n")
    result = cli("check", str(dest), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["deleted"] == [".github/workflows/monitor.yml"]
    assert report["changed"] == ["mlplate.mk"]  # params.yaml and the Makefile are the team's
    assert report["violations"] == 2


def test_check_accepts_a_new_remote_url_but_not_a_changed_dvc_config_structure(cli, tmp_path):
    dest = new_project(cli, tmp_path)
    config = dest / ".dvc" / "config"
    config.write_text(config.read_text().replace("../../proj-dvc-remote", "/shared/dvc"))
    accepted = cli("check", str(dest))
    assert accepted.exit_code == 0, accepted.stdout + accepted.stderr
    config.write_text(config.read_text().replace("    analytics = false\n", ""))
    result = cli("check", str(dest))
    assert result.exit_code == 1
    assert "changed template-managed file: .dvc/config" in result.stdout


def test_check_reports_missing_pipeline_stages_and_tests(cli, tmp_path):
    dest = new_project(cli, tmp_path)
    dvc_yaml = yaml.safe_load((dest / "dvc.yaml").read_text())
    del dvc_yaml["stages"]["evaluate"]
    (dest / "dvc.yaml").write_text(yaml.safe_dump(dvc_yaml))
    for test_file in (dest / "tests").glob("test_*.py"):
        test_file.unlink()
    result = cli("check", str(dest))
    assert result.exit_code == 1
    assert "missing required piece: pipeline stage 'evaluate' in dvc.yaml" in result.stdout
    assert "missing required piece: tests" in result.stdout


def test_check_tells_leftovers_conflicts_and_a_runtime_unlike_the_templates(cli, tmp_path):
    from mlplate import __version__

    dest = new_project(cli, tmp_path)
    package = dest / "src" / "proj"
    # a module an earlier release rendered (v0.2.0-v0.2.8 had it in every project), now dead
    (package / "gitlab.py").write_text('"""Left by an earlier release."""\n')
    (package / "routes.py").write_text('"""The team\'s own: never a leftover."""\n')
    readme = dest / "README.md"
    readme.write_text(readme.read_text() + "<<<<<<< before updating\nours\n=======\n>>>>>>> x\n")
    pyproject = dest / "pyproject.toml"
    assert f"]=={__version__}" in pyproject.read_text()
    pyproject.write_text(pyproject.read_text().replace(f"]=={__version__}", "]==0.2.29"))
    wheels = dest / ".mlplate" / "wheels"
    wheel = next(wheels.glob("*.whl"))
    wheel.rename(wheels / "mlplate_runtime-0.2.29-py3-none-any.whl")

    result = cli("check", str(dest), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["not_rendered"] == ["src/proj/gitlab.py"]
    assert report["conflicts"] == ["README.md"]
    assert len(report["runtime"]) == 2
    assert report["runtime"][0].startswith("pyproject.toml pins mlplate-runtime 0.2.29; template")
    assert (
        f".mlplate/wheels holds mlplate_runtime-0.2.29-py3-none-any.whl, not mlplate-runtime {__version__}"
        in report["runtime"][1]
    )
    text = cli("check", str(dest)).stdout
    assert "no longer rendered by the template: src/proj/gitlab.py" in text
    assert "unresolved conflict: README.md" in text


def test_check_counts_template_releases_behind(project, cli):  # noqa: F811
    result = cli("check", str(project), "--format", "json")
    report = json.loads(result.stdout)
    assert (report["version"], report["latest"], report["versions_behind"]) == (
        "v1.0.0",
        "v3.0.0",
        2,
    )


def test_preset_defaults_apply_and_locked_answers_are_recorded(cli, tmp_path):
    preset = tmp_path / "team.yml"
    preset.write_text("license: Apache-2.0\nlocked:\n  ci: gitlab\n")
    dest = new_project(cli, tmp_path, "--preset", str(preset))
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert (answers["license"], answers["ci"]) == ("Apache-2.0", "gitlab")
    assert yaml.safe_load((dest / PRESET_FILE).read_text())["locked"] == {"ci": "gitlab"}
    assert git(dest, "status", "--porcelain") == ""


def test_a_locked_answer_cannot_be_overridden(cli, tmp_path):
    preset = tmp_path / "team.yml"
    preset.write_text("locked:\n  ci: gitlab\n")
    result = cli(
        "new", str(tmp_path / "p"), "--defaults", "--preset", str(preset), "--data", "ci=github"
    )
    assert result.exit_code == 1
    assert "answer 'ci' is locked to 'gitlab' by preset team.yml" in result.stderr
    assert not (tmp_path / "p").exists()
    answers = tmp_path / "answers.yml"
    answers.write_text("ci: none\n")
    result = cli(
        "new", str(tmp_path / "p"), "--defaults", "--preset", str(preset), "--answers", str(answers)
    )
    assert result.exit_code == 1
    assert "remove it from answers file" in result.stderr


def test_update_and_check_respect_the_recorded_preset(cli, tmp_path):
    preset = tmp_path / "team.yml"
    preset.write_text("locked:\n  serving: fastapi\n")
    dest = new_project(cli, tmp_path, "--preset", str(preset))
    refused = cli("update", str(dest), "--data", "serving=none")
    assert refused.exit_code == 1
    assert "locked to 'fastapi'" in refused.stderr
    answers = dest / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace("serving: fastapi", "serving: none"))
    commit(dest, "hand-edited answers")
    result = cli("check", str(dest))
    assert result.exit_code == 1
    assert "preset violation: answer 'serving' is 'none'" in result.stdout


def test_preset_export_writes_the_team_answers_locked(cli, tmp_path):
    dest = new_project(cli, tmp_path, "--data", "ci=gitlab", "--data", "description=Churn")
    result = cli("preset", "export", str(dest))
    assert result.exit_code == 0
    exported = yaml.safe_load(result.stdout)
    assert exported["locked"]["ci"] == "gitlab"
    assert "description" not in exported and "project_name" not in exported
    out = tmp_path / "team.yml"
    assert cli("preset", "export", str(dest), "-o", str(out)).exit_code == 0
    assert cli("preset", "export", str(dest), "-o", str(out)).exit_code == 1  # never overwrites
    again = cli("new", str(tmp_path / "second"), "--defaults", "--preset", str(out))
    assert again.exit_code == 0, again.stderr
