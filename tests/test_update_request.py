"""The scheduled template-update job, run end to end against fake GitHub and GitLab APIs:
a newer release conflicts with the project's Makefile and with the update workflow itself,
and the job still pushes the branch (markers committed) and opens, then refreshes, one
pull/merge request listing the conflicted files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from mlplate import __version__
from mlplate.history import build_bundle
from tests.test_template_source import git, sync_template

ROOT = Path(__file__).parents[1]
BRANCH = "mlplate/template-update"


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="module")
def newer_history(tmp_path_factory) -> Path:
    """A history bundle with this release and the next, which changes the same mlplate.mk line
    and workflow schedule the project below edits."""
    source = tmp_path_factory.mktemp("maintainer") / "mlplate"
    git(ROOT, "clone", "--quiet", "--no-hardlinks", str(ROOT), str(source))
    sync_template(source)
    body = source / "{{cookiecutter.__project_slug}}"
    replace(body / "mlplate.mk", "PYTHON ?= python3\n", "PYTHON ?= python3.11\n")
    replace(body / ".github/workflows/template-update.yml", '"23 5 * * 1"', '"23 6 * * 1"')
    major, minor, patch = (int(part) for part in __version__.split("."))
    init = source / "src/mlplate/__init__.py"
    replace(init, __version__, f"{major}.{minor}.{patch + 1}")
    git(source, "commit", "--quiet", "-am", "next release")
    return build_bundle(source, source.parent / "history.bundle")


class FakeForge(BaseHTTPRequestHandler):
    """Records every request; answers like GitHub or GitLab for one pull/merge request."""

    calls: ClassVar[list[dict[str, Any]]] = []
    existing: ClassVar[list[dict[str, Any]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        FakeForge.calls.append(
            {"method": self.command, "path": self.path, "body": body, "headers": dict(self.headers)}
        )
        if self.command == "GET":
            answer: Any = FakeForge.existing
        else:
            answer = {"number": 7, "iid": 7, "html_url": "http://forge/pull/7",
                      "web_url": "http://forge/mr/7"}  # fmt: skip
        data = json.dumps(answer).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def forge() -> str:
    FakeForge.calls, FakeForge.existing = [], []
    server = HTTPServer(("127.0.0.1", 0), FakeForge)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def project_with_origin(tmp_path: Path, cli, ci: str) -> tuple[Path, Path]:
    """A project at this release, its mlplate.mk and update job edited, pushed to an origin."""
    project = tmp_path / "churn-model"
    assert cli("new", str(project), "--defaults", "--data", f"ci={ci}").exit_code == 0
    replace(project / "mlplate.mk", "PYTHON ?= python3\n", "PYTHON ?= python3.12\n")
    if ci == "github":
        workflow = project / ".github/workflows/template-update.yml"
        replace(workflow, '"23 5 * * 1"', '"0 4 * * 1"')
    git(project, "commit", "--quiet", "-am", "our Makefile and schedule")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", str(origin))
    git(project, "remote", "add", "origin", str(origin))
    git(project, "push", "--quiet", "origin", "main")
    return project, origin


def run_install_step(lines: list[str], project: Path, tmp_path: Path) -> list[str]:
    """Run the job's install lines with a python3 that records pip's arguments."""
    shims = tmp_path / "shims"
    shims.mkdir(exist_ok=True)
    log = tmp_path / "pip-args"
    shim = shims / "python3"
    shim.write_text(
        f'#!/bin/sh\nif [ "$1 $2" = "-m pip" ]; then printf "%s\\n" "$@" > {log}; exit 0; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(lines)], cwd=project, env=env,
                   check=True)  # fmt: skip
    return log.read_text().split()


def job_lines(project: Path, ci: str) -> list[str]:
    if ci == "github":
        workflow = yaml.safe_load((project / ".github/workflows/template-update.yml").read_text())
        steps = workflow["jobs"]["update"]["steps"]
        return [
            line for step in steps if "run" in step for line in step["run"].splitlines() if line
        ]
    return yaml.safe_load((project / ".gitlab-ci.yml").read_text())["template-update"]["script"]


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_a_conflicted_update_still_opens_then_refreshes_one_request(
    ci, tmp_path, cli, forge, newer_history, monkeypatch
):
    project, origin = project_with_origin(tmp_path, cli, ci)
    lines = job_lines(project, ci)  # read before the update: the job runs this version
    *install, command = lines
    assert run_install_step(install, project, tmp_path)[-1] == "mlplate>=0.2,<1"

    monkeypatch.setattr("mlplate.history.history_bundle", lambda: newer_history)
    env = (
        {"GITHUB_API_URL": forge, "GITHUB_REPOSITORY": "team/churn-model",
         "GITHUB_TOKEN": "gh-secret", "GITHUB_REF_NAME": "main"}
        if ci == "github"
        else {"CI_API_V4_URL": f"{forge}/api/v4", "CI_PROJECT_ID": "42",
              "GITLAB_TOKEN": "gl-secret", "CI_DEFAULT_BRANCH": "main"}
    )  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    args = command.split()[1:]
    result = cli(*args[:1], str(project), *args[1:])
    assert result.exit_code == 0, result.stderr
    assert "file(s) for a person" in result.stdout

    pushed = git(origin, "show", f"{BRANCH}:mlplate.mk")
    assert "<<<<<<< " in pushed and "python3.12" in pushed and "python3.11" in pushed
    conflicted = ["mlplate.mk"] + (
        [".github/workflows/template-update.yml"] if ci == "github" else []
    )
    get, create = FakeForge.calls
    assert get["method"] == "GET" and create["method"] == "POST"
    body = create["body"]["body" if ci == "github" else "description"]
    for path in conflicted:
        assert f"- `{path}`" in body
    if ci == "github":
        assert create["path"] == "/repos/team/churn-model/pulls"
        assert create["body"]["head"] == BRANCH and create["body"]["base"] == "main"
        assert create["headers"]["Authorization"] == "Bearer gh-secret"
    else:
        assert create["path"] == "/api/v4/projects/42/merge_requests"
        assert create["body"]["source_branch"] == BRANCH
        assert create["body"]["target_branch"] == "main"
        assert create["headers"]["Private-Token"] == "gl-secret"

    # Next week: a fresh checkout of main, the request exists: it is refreshed, not duplicated.
    git(project, "checkout", "--quiet", "main")
    FakeForge.calls.clear()
    FakeForge.existing = [{"number": 7, "iid": 7}]
    assert cli(*args[:1], str(project), *args[1:]).exit_code == 0
    methods = [(call["method"], call["path"]) for call in FakeForge.calls]
    assert methods[1] == (
        ("PATCH", "/repos/team/churn-model/pulls/7")
        if ci == "github"
        else ("PUT", "/api/v4/projects/42/merge_requests/7")
    )


def test_a_current_project_opens_no_request(tmp_path, cli, forge, monkeypatch):
    project, _ = project_with_origin(tmp_path, cli, "github")
    monkeypatch.setenv("GITHUB_API_URL", forge)
    monkeypatch.setenv("GITHUB_REPOSITORY", "team/churn-model")
    monkeypatch.setenv("GITHUB_TOKEN", "gh-secret")
    monkeypatch.setenv("GITHUB_REF_NAME", "main")
    result = cli("update-request", str(project), "--host", "github")
    assert result.exit_code == 0, result.stderr
    assert "the template is current" in result.stdout
    assert FakeForge.calls == []


def test_missing_ci_settings_are_one_line_errors(tmp_path, cli, newer_history, monkeypatch):
    project, _ = project_with_origin(tmp_path, cli, "github")
    monkeypatch.setattr("mlplate.history.history_bundle", lambda: newer_history)
    for key in ("GITHUB_REPOSITORY", "GITHUB_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GITHUB_REF_NAME", "main")
    result = cli("update-request", str(project), "--host", "github")
    assert result.exit_code == 1
    assert result.stderr.count("error:") == 1
    assert "GITHUB_REPOSITORY is not set; run this in GitHub Actions" in result.stderr
    assert git(project, "branch", "--list", BRANCH) == ""  # nothing done before the check
    bad = cli("update-request", str(project), "--host", "bitbucket")
    assert bad.exit_code == 2 and "'bitbucket' is not one of 'github', 'gitlab'" in bad.stderr
