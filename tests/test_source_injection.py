"""A template source read from a file (.copier-answers.yml, a preset) or typed on the command
line is data: git never takes it as an option, and transports that run commands are refused."""

from __future__ import annotations

import json

import pytest

from mlplate.errors import MlplateError
from mlplate.git import git
from mlplate.source import check_source, git_safety_environment
from tests.test_update import git as project_git
from tests.test_update_check_policy import ANSWERS, one_error, set_answers

HOSTILE = [
    "--upload-pack=touch {marker};false",
    "-u touch {marker}",
    "ext::sh -c touch% {marker}",
    "fd::17",
    "https://example.org/x\n--upload-pack=touch {marker}",
    "javascript:alert(1)",
]


@pytest.fixture
def project_with_local_origin(project, tmp_path):
    """A project whose `origin` is a local repository: git runs --upload-pack for such origins."""
    origin = tmp_path / "origin.git"
    project_git(tmp_path, "init", "--quiet", "--bare", str(origin))
    project_git(project, "remote", "add", "origin", str(origin))
    project_git(project, "push", "--quiet", "origin", "HEAD")
    return project


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_recorded_source_never_runs_a_command(cli, project_with_local_origin, tmp_path, hostile):
    project, marker = project_with_local_origin, tmp_path / "pwned"
    source = hostile.format(marker=marker)
    text = (project / ANSWERS).read_text()
    recorded = text.replace(
        "_src_path: https://github.com/mlplate/mlplate.git", f"_src_path: {json.dumps(source)}"
    )
    assert recorded != text
    set_answers(project, recorded)
    one_error(cli("check", str(project)), 2, "is not a git URL or path")
    one_error(cli("update", str(project)), 1, "is not a git URL or path")
    one_error(cli("update", str(project), "--dry-run"), 1, "is not a git URL or path")
    assert not marker.exists()
    assert project_git(project, "status", "--porcelain") == ""


def test_a_recorded_version_that_looks_like_an_option_is_refused(cli, project, tmp_path):
    text = (project / ANSWERS).read_text()
    set_answers(project, text.replace("_commit: v", "_commit: --output=x v", 1))
    one_error(cli("update", str(project)), 1, "records template version '--output=x v")
    one_error(cli("check", str(project)), 2, "records template version '--output=x v")


def test_hostile_template_urls_from_the_command_line_and_presets_are_refused(cli, tmp_path):
    marker = tmp_path / "pwned"
    result = cli(
        "new", str(tmp_path / "a"), "--defaults", "--template-url", f"--upload-pack=touch {marker}"
    )
    one_error(result, 1, "--template-url '--upload-pack=touch")
    preset = tmp_path / "team.yml"
    preset.write_text(f"template_url: 'ext::sh -c touch% {marker}'\n")
    result = cli("new", str(tmp_path / "b"), "--defaults", "--preset", str(preset))
    one_error(result, 1, "template_url 'ext::sh -c touch%")
    assert not marker.exists()
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    "source",
    [
        "https://github.com/mlplate/mlplate.git",
        "ssh://git@git.example.org:2222/team/mlplate.git",
        "git@github.com:team/mlplate.git",
        "gh:team/mlplate",
        "file:///srv/git/mlplate.git",
        "/srv/git/mlplate.bundle",
        "../mlplate",
        "https://[::1]:8080/team/mlplate.git",
    ],
)
def test_ordinary_sources_are_accepted(source):
    assert check_source(source, origin="source", fix="fix it") == source


@pytest.mark.parametrize("hostile", HOSTILE)
def test_check_source_refuses_hostile_values(hostile):
    with pytest.raises(MlplateError, match="is not a git URL or path"):
        check_source(hostile.format(marker="/tmp/x"), origin="source", fix="fix it")


def test_git_itself_refuses_command_transports_with_the_safety_environment(tmp_path):
    """Defence in depth: even a value that slipped past the check cannot reach `ext::`."""
    marker = tmp_path / "pwned"
    with pytest.raises(MlplateError, match="not allowed"):
        git("ls-remote", "--", f"ext::sh -c touch% {marker}", env=git_safety_environment())
    assert not marker.exists()


@pytest.fixture
def project(cli, tmp_path):
    dest = tmp_path / "churn-model"
    result = cli("new", str(dest), "--defaults")
    assert result.exit_code == 0, result.stderr
    return dest
