"""`update` and `check` on the inputs users produce: broken answers files, unknown versions
and sources, monorepos, dirty trees, the team's central preset, tampering. Every failure is
one `error:` line with its documented exit code (update 1; check 2 = could not check)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from functools import partial
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path

import pytest

from mlplate import __version__
from mlplate.presets import PRESET_FILE
from tests.test_update import commit, git

ANSWERS = ".copier-answers.yml"


@pytest.fixture
def project(cli, tmp_path) -> Path:
    dest = tmp_path / "churn-model"
    result = cli("new", str(dest), "--defaults")
    assert result.exit_code == 0, result.stderr
    return dest


def one_error(result, code: int, text: str) -> None:
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stderr.count("error:") == 1, result.stderr
    assert text in result.stderr, result.stderr
    assert "internal error" not in result.stderr


def set_answers(project: Path, text: str) -> None:
    (project / ANSWERS).write_text(text)
    commit(project, "answers changed")


BROKEN_ANSWERS = [
    ("_commit: v0.2.0\nci: [github\n", "is not valid YAML at line"),
    ("- ci: github\n- docs: true\n", "must hold a mapping of question: answer, not a list"),
    ("ci: github\n", "records no template version (_commit)"),
]


@pytest.mark.parametrize(("content", "message"), BROKEN_ANSWERS)
def test_a_broken_answers_file_is_one_line_everywhere(cli, project, tmp_path, content, message):
    set_answers(project, content)
    one_error(cli("update", str(project)), 1, message)
    one_error(cli("check", str(project)), 2, message)
    one_error(cli("preset", "export", str(project)), 1, message)
    as_json = cli("check", str(project), "--format", "json")
    assert as_json.exit_code == 2
    report = json.loads(as_json.stdout)
    assert message in report["error"] and report["violations"] is None


def test_unknown_versions_list_the_releases_that_exist(cli, project):
    one_error(cli("update", str(project), "--to", "v9.9.9"), 1, "releases: v0.1.0, v0.2.0, ")
    one_error(cli("update", str(project), "--to", "v0.1.0"), 1, "mlplate updates forward only")
    text = (project / ANSWERS).read_text().replace(f"_commit: v{__version__}", "_commit: v7.7.7")
    set_answers(project, text)
    one_error(cli("update", str(project)), 1, "records template version 'v7.7.7'")
    one_error(cli("check", str(project)), 2, "which is not a release of its template source")


def test_an_unreachable_template_source_cannot_be_checked(cli, project, tmp_path):
    text = (project / ANSWERS).read_text()
    text = text.replace("https://github.com/mlplate/mlplate.git", str(tmp_path / "gone.git"))
    set_answers(project, text)
    one_error(cli("check", str(project)), 2, "cannot read the template source")
    one_error(cli("update", str(project)), 1, "cannot read the template source")


def test_an_invalid_recorded_answer_is_refused_before_copier_runs(cli, project):
    text = (project / ANSWERS).read_text().replace("ci: github", "ci: jenkins")
    set_answers(project, text)
    one_error(cli("update", str(project)), 1, "holds an invalid answer: ci='jenkins'")
    assert git(project, "status", "--porcelain") == ""


def test_a_mirror_runs_its_migrations_only_when_trusted(cli, tmp_path):
    """A team's mirror of the releases is not mlplate's own source: copier's migrations run
    only with --trust."""
    import copier

    from mlplate.history import history_bundle

    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(history_bundle()), str(mirror)],
                   check=True)  # fmt: skip
    dest = tmp_path / "old-model"
    copier.run_copy(str(mirror), dest, vcs_ref="v0.1.0", data={"project_name": "old-model"},
                    defaults=True, quiet=True)  # fmt: skip
    git(dest, "init", "--quiet", "--initial-branch=main")
    commit(dest, "from the mirror")
    one_error(cli("update", str(dest)), 1, f"the template source {mirror} runs commands on update")
    assert git(dest, "status", "--porcelain") == ""
    trusted = cli("update", str(dest), "--trust")
    assert trusted.exit_code == 0, trusted.stderr
    assert (dest / "src" / "old_model" / "gitlab.py").is_file()


def test_a_project_inside_a_monorepo_updates_and_checks(cli, tmp_path):
    monorepo = tmp_path / "platform"
    (monorepo / "services").mkdir(parents=True)
    (monorepo / "README.md").write_text("all our services\n")
    dest = monorepo / "services" / "churn-model"
    assert cli("new", str(dest), "--defaults", "--no-git").exit_code == 0
    git(monorepo, "init", "--quiet", "--initial-branch=main")
    commit(monorepo, "monorepo")
    assert cli("check", str(dest)).exit_code == 0
    result = cli("update", str(dest), "--data", "ci=gitlab")
    assert result.exit_code == 0, result.stderr
    assert (dest / ".gitlab-ci.yml").is_file() and not (dest / ".github").exists()
    assert not (monorepo / ".gitlab-ci.yml").exists()


def test_a_dry_run_on_a_dirty_tree_shows_new_files_and_writes_nothing(cli, project):
    (project / "notes.md").write_text("work in progress\n")
    params = project / "params.yaml"
    params.write_text(params.read_text() + "# trying a smaller forest\n")
    result = cli("update", str(project), "--dry-run", "--data", "ci=gitlab")
    assert result.exit_code == 0, result.stderr
    assert "+++ b/.gitlab-ci.yml" in result.stdout
    assert "+  stage: maintain" in result.stdout  # the new file's content, not only its name
    assert params.read_text().endswith("# trying a smaller forest\n")
    assert "notes.md" not in result.stdout  # the local changes are the base, not the change
    assert not (project / ".gitlab-ci.yml").exists()
    one_error(cli("update", str(project), "--data", "ci=gitlab"), 1, "uncommitted changes")


@pytest.fixture
def central_preset(tmp_path) -> Path:
    preset = tmp_path / "team" / "preset.yml"
    preset.parent.mkdir()
    preset.write_text("locked:\n  ci: gitlab\n  docs: true\n")
    return preset


def test_check_against_the_teams_central_preset_file_or_url(cli, project, central_preset):
    local = cli("check", str(project), "--preset", str(central_preset))
    assert local.exit_code == 1
    assert "answer 'ci' is 'github', but preset preset.yml locks it to 'gitlab'" in local.stdout
    handler = partial(SimpleHTTPRequestHandler, directory=str(central_preset.parent))
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/preset.yml"
        remote = cli("check", str(project), "--preset", url, "--format", "json")
        assert remote.exit_code == 1
        assert any(
            "locks it to 'gitlab'" in item
            for item in json.loads(remote.stdout)["preset_violations"]
        )
        missing = cli("check", str(project), "--preset", url.replace("preset.yml", "nope.yml"))
        one_error(missing, 2, "cannot fetch preset")
    finally:
        server.shutdown()
    one_error(cli("check", str(project), "--preset", "no/such.yml"), 2, "cannot read preset")


def test_a_tampered_answers_file_cannot_hide_an_edit(cli, tmp_path, central_preset):
    dest = tmp_path / "locked-model"
    assert cli("new", str(dest), "--defaults", "--preset", str(central_preset)).exit_code == 0
    assert cli("check", str(dest)).exit_code == 0
    # Unlock by hand: switch CI in the answers file, replace the GitLab file with GitHub's.
    (dest / ".gitlab-ci.yml").write_text("# ours\n")
    text = (dest / ANSWERS).read_text().replace("ci: gitlab", "ci: github")
    set_answers(dest, text)
    report = json.loads(cli("check", str(dest), "--format", "json").stdout)
    assert any("tampered" in item for item in report["preset_violations"])
    assert report["changed"] == [".gitlab-ci.yml"]  # measured against the locked answers


def test_a_deleted_preset_file_is_a_violation(cli, tmp_path, central_preset):
    dest = tmp_path / "locked-model"
    assert cli("new", str(dest), "--defaults", "--preset", str(central_preset)).exit_code == 0
    (dest / PRESET_FILE).unlink()
    commit(dest, "no more preset")
    result = cli("check", str(dest))
    assert result.exit_code == 1
    assert f"{PRESET_FILE} was deleted; restore it with `git checkout" in result.stdout


def test_diff_shows_the_changed_lines_and_local_settings_are_not_drift(cli, project):
    (project / "local.mk").write_text("PORT = 9000\n")
    assert cli("check", str(project)).exit_code == 0
    makefile = project / "mlplate.mk"
    makefile.write_text(makefile.read_text().replace("PORT ?= 8000", "PORT ?= 9000"))
    result = cli("check", str(project), "--diff")
    assert result.exit_code == 1
    assert "-PORT ?= 8000\n+PORT ?= 9000" in result.stdout
    as_json = json.loads(cli("check", str(project), "--diff", "--format", "json").stdout)
    assert "+PORT ?= 9000" in as_json["diffs"]["mlplate.mk"]


def test_preset_export_into_a_missing_folder_is_refused(cli, project, tmp_path):
    target = tmp_path / "missing" / "preset.yml"
    one_error(cli("preset", "export", str(project), "-o", str(target)), 1, "create it first")
    assert not target.parent.exists()


def test_new_with_a_closed_stdout_still_succeeds_quietly(tmp_path):
    mlplate = Path(sys.executable).parent / "mlplate"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"{mlplate} new piped-model --defaults | true"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "internal error" not in result.stderr
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "piped-model" / ".copier-answers.yml").is_file()
