"""The repository is the template: plain copier and cookiecutter take it as it is, give the
files `mlplate new` gives, and plain `copier update` moves a generated project to a newer
release made in a clone (git maps the URL the project records to that clone)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
import yaml

from mlplate import __version__
from mlplate.source import LEGACY_URLS, template_url
from mlplate.template import TEMPLATE_PATHS, template_root
from tests.conftest import tree
from tests.shell import run

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
TAG = f"v{__version__}"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t.t", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def sync_template(clone: Path) -> None:
    """Bring this checkout's (possibly uncommitted) template and version into the clone."""
    for name in (*TEMPLATE_PATHS, "src/mlplate/__init__.py", "CHANGELOG.md"):
        source, target = template_root() / name, clone / name
        if source.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    git(clone, "add", "--all")
    if git(clone, "status", "--porcelain"):
        git(clone, "commit", "--quiet", "-m", "working tree")


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A clone of this repository with the current release tagged, as a maintainer tags it."""
    clone = tmp_path_factory.mktemp("source") / "mlplate.git"
    git(ROOT, "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone))
    sync_template(clone)
    git(clone, "tag", "--force", TAG)
    return clone


def mapped(clone: Path, home: Path) -> dict[str, str]:
    """Environment under which git fetches mlplate's recorded URL from the clone."""
    home.mkdir(exist_ok=True)
    return {
        "HOME": str(home),
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{clone}.insteadOf",
        "GIT_CONFIG_VALUE_0": template_url(),
    }


def without_answers(files: dict[str, bytes]) -> dict[str, bytes]:
    return {path: content for path, content in files.items() if path != ".copier-answers.yml"}


def recorded(project: Path) -> dict:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


def commit_all(project: Path, message: str) -> None:
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", message)


def test_plain_copier_and_cookiecutter_take_the_repository_as_it_is(clone, tmp_path, cli):
    reference = tmp_path / "new" / "demo-model"
    reference.parent.mkdir()
    assert cli("new", str(reference), "--defaults", "--no-git").exit_code == 0
    expected = tree(reference)
    # mlplate also puts the runtime's wheel in the project; the engines render the template only.
    wheel = f".mlplate/wheels/mlplate_runtime-{__version__}-py3-none-any.whl"
    assert expected.pop(wheel)[:2] == b"PK"
    home = tmp_path / "home"
    env = mapped(clone, home)

    at_tag = tmp_path / "copier-tag" / "demo-model"
    run(BIN / "copier", "copy", "--defaults", "--vcs-ref", TAG, "-d", "project_name=demo-model", template_url(), str(at_tag),
        cwd=tmp_path, **env)  # fmt: skip
    at_head = tmp_path / "copier-head" / "demo-model"
    run(BIN / "copier", "copy", "--defaults", "-d", "project_name=demo-model", str(clone),
        str(at_head), cwd=tmp_path, **env)  # fmt: skip
    out = tmp_path / "cookiecutter"
    run(BIN / "cookiecutter", "--no-input", "--checkout", TAG, "--output-dir", str(out),
        f"git+file://{clone}", "project_name=demo-model", cwd=tmp_path, **env)  # fmt: skip

    out_head = tmp_path / "cookiecutter-head"
    run(BIN / "cookiecutter", "--no-input", "--output-dir", str(out_head), f"git+file://{clone}",
        "project_name=demo-model", cwd=tmp_path, **env)  # fmt: skip

    for project in (at_tag, at_head, out / "demo-model", out_head / "demo-model"):
        files = tree(project)
        assert sorted(without_answers(files)) == sorted(without_answers(expected)), project
        for path, content in without_answers(expected).items():
            assert files[path] == content, f"{project}: {path}"
    # Copier records where it came from; at the tag, that is what mlplate new records.
    assert recorded(at_tag) == recorded(reference)
    assert recorded(at_head)["_src_path"] == str(clone)


def test_a_raw_copier_project_updates_with_mlplate_offline(clone, tmp_path, cli):
    project = tmp_path / "raw" / "demo-model"
    run(BIN / "copier", "copy", "--defaults", "--vcs-ref", TAG, template_url(), str(project),
        cwd=tmp_path, **mapped(clone, tmp_path / "home"))  # fmt: skip
    commit_all(project, "raw copier")
    result = cli("update", str(project), "--data", "ci=gitlab")  # no mapping: the bundle
    assert result.exit_code == 0, result.stderr
    assert (project / ".gitlab-ci.yml").is_file()


def test_plain_copier_update_takes_a_newer_release_and_keeps_local_edits(clone, tmp_path, cli):
    project = tmp_path / "demo-model"
    assert cli("new", str(project), "--defaults").exit_code == 0
    readme = project / "README.md"
    readme.write_text("Team notes kept by the update.\n\n" + readme.read_text())
    git(project, "commit", "--quiet", "-am", "our notes")

    newer = tmp_path / "maintainer" / "mlplate.git"
    git(tmp_path, "clone", "--quiet", str(clone), str(newer))
    body = newer / "{{cookiecutter.__project_slug}}"
    (body / "README.md").write_text((body / "README.md").read_text() + "\nNew in the release.\n")
    major, minor, patch = (int(part) for part in __version__.split("."))
    bumped = f"{major}.{minor}.{patch + 1}"
    init = newer / "src" / "mlplate" / "__init__.py"
    init.write_text(init.read_text().replace(__version__, bumped))
    git(newer, "commit", "--quiet", "-am", f"release {bumped}")
    git(newer, "tag", f"v{bumped}")

    run(BIN / "copier", "update", "--defaults", "--trust", cwd=project,
        **mapped(newer, tmp_path / "home"))  # fmt: skip
    text = readme.read_text()
    assert "Team notes kept by the update." in text
    assert "New in the release." in text
    assert recorded(project)["_commit"] == f"v{bumped}"
    assert recorded(project)["_src_path"] == template_url()


def test_a_project_from_before_v0_2_0_updates_and_its_rename_migration_runs(tmp_path, cli):
    """Recorded at v0.1.0 under the former URL: the update renames merge_request.py by
    migration, keeps the edit made to it, and records the current URL."""
    from mlplate.history import history_bundle

    project = tmp_path / "old-model"
    import copier

    copier.run_copy(
        str(history_bundle()),
        project,
        vcs_ref="v0.1.0",
        data={"project_name": "old-model"},
        defaults=True,
        quiet=True,
    )
    answers = project / ".copier-answers.yml"
    text = answers.read_text()
    answers.write_text(
        text.replace(f"_src_path: {history_bundle()}", f"_src_path: {LEGACY_URLS[0]}")
    )
    old = project / "src" / "old_model" / "merge_request.py"
    old.write_text("# our GitLab notes\n" + old.read_text())
    commit_all(project, "generated by mlplate 0.1.0")

    result = cli("update", str(project), "--to", "v0.2.0")
    assert result.exit_code == 0, result.stderr
    assert not old.exists()
    renamed = project / "src" / "old_model" / "gitlab.py"
    assert renamed.read_text().startswith("# our GitLab notes\n")
    assert (project / "tests" / "test_gitlab.py").is_file()
    assert recorded(project)["_src_path"] == template_url()
    assert recorded(project)["_commit"] == "v0.2.0"
    assert (project / "local.mk").is_file()


# One rule set, three front doors: each row is refused (or accepted) by mlplate new,
# by plain copier and by plain cookiecutter alike, with the same message.
VALIDATION_TABLE = [
    ({"project_name": "json"}, "which is a standard-library module"),
    ({"project_name": "9lives"}, "start with a letter"),
    ({"project_name": "class"}, "which is a Python keyword"),
    ({"project_name": "pandas"}, "a module the generated project imports"),
    ({"project_name": "m" * 41}, "use at most 40"),
    ({"author_email": "team at example.com"}, "is not an email address"),
    ({"description": "two\nlines"}, "description must be one line"),
    ({"dvc_remote": "s3", "s3_bucket": "Team_Data"}, "is not a valid bucket name"),
    ({"dvc_remote": "s3", "s3_endpoint_url": "minio:9000"}, "is not an http(s) URL"),
    ({"mlflow_tracking": "server", "mlflow_tracking_uri": "ftp://x"}, "is not an http(s) URL"),
    ({"project_name": "Churn Model", "author_name": 'Ann "The" O\'Neil \\ co'}, None),
    ({"project_name": "Модель"}, "use only (Latin) letters"),
    ({"project_name": "Émile Søndergård"}, None),  # slugged: emile-sondergard
]


@pytest.mark.parametrize(("answers", "message"), VALIDATION_TABLE)
def test_the_same_rules_at_every_front_door(clone, tmp_path, cli, answers, message):
    import copier
    from cookiecutter.main import cookiecutter

    pairs = [arg for key, value in answers.items() for arg in ("--data", f"{key}={value}")]
    by_mlplate = cli("new", str(tmp_path / "mlplate"), "--defaults", "--no-git", *pairs)

    try:
        copier.run_copy(str(clone), tmp_path / "copier", data=answers, defaults=True, quiet=True)
        by_copier = ""
    except ValueError as error:
        by_copier = str(error)

    hook_errors = tmp_path / "hook-stderr"
    try:
        with open(hook_errors, "w") as stderr, _redirect_stderr(stderr):
            cookiecutter(str(clone), no_input=True, extra_context=answers,
                         output_dir=str(tmp_path / "cookiecutter"))  # fmt: skip
        by_cookiecutter = ""
    except Exception:  # cookiecutter's FailedHookException; the hook printed the message
        by_cookiecutter = hook_errors.read_text() or "failed"

    if message is None:
        assert by_mlplate.exit_code == 0, by_mlplate.stderr
        assert (by_copier, by_cookiecutter) == ("", "")
        for folder in ("mlplate", "copier", "cookiecutter"):
            pyproject = next((tmp_path / folder).glob("**/pyproject.toml"))
            project = tomllib.loads(pyproject.read_text())["project"]
            if "author_name" in answers:
                assert project["authors"][0]["name"] == answers["author_name"]
            if answers["project_name"].startswith("Émile"):
                assert project["name"] == "emile-sondergard"
                assert (pyproject.parent / "src" / "emile_sondergard").is_dir()
    else:
        assert by_mlplate.exit_code == 1
        assert message in by_mlplate.stderr
        assert message in by_copier
        assert message in by_cookiecutter
        assert (
            not list((tmp_path / "cookiecutter").glob("*"))
            if (tmp_path / "cookiecutter").exists()
            else True
        )
        assert not (tmp_path / "mlplate").exists()
        assert not (tmp_path / "copier").exists()


class _redirect_stderr:
    """Send file descriptor 2 (where cookiecutter's hook subprocess writes) to a file."""

    def __init__(self, target) -> None:
        self.target = target

    def __enter__(self) -> None:
        import os

        self.saved = os.dup(2)
        os.dup2(self.target.fileno(), 2)

    def __exit__(self, *exc: object) -> None:
        import os

        os.dup2(self.saved, 2)
        os.close(self.saved)
