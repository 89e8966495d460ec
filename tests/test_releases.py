"""Releases are version bumps (tags where they exist); the history bundle holds each one's
template, and the release check keeps the template from changing without a new version."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlplate.history import build_bundle, bundle_tags, releases
from mlplate.release_check import main as release_check
from mlplate.release_check import problems

ROOT = Path(__file__).parents[1]
CHANGELOG = "# Changelog\n\n## v0.3.0\n\nthree\n\n## v0.2.0\n\ntwo\n\n## v0.1.0\n\none\n"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def set_version(repo: Path, version: str) -> None:
    write(repo / "src/mlplate/__init__.py", f'"""mlplate."""\n\n__version__ = "{version}"\n')


def template(root: Path, readme: str) -> None:
    """A tiny template in the given folder (the repository root, or the legacy folder)."""
    write(root / "copier.yml", "_subdirectory: body\nname:\n  type: str\n  default: demo\n")
    write(root / "cookiecutter.json", '{"name": "demo"}\n')
    write(root / "hooks/pre_gen_project.py", "")
    write(root / "{{cookiecutter.__project_slug}}/README.md", readme)


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t.t", "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path) -> Path:
    """v0.1.0 with the template in src/mlplate/template, changed once between builds;
    v0.2.0 moves it to the root; a later commit changes only code. No tags."""
    repo = tmp_path / "mlplate"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    write(repo / "CHANGELOG.md", CHANGELOG)
    set_version(repo, "0.1.0")
    template(repo / "src/mlplate/template", "first 0.1.0 build\n")
    commit(repo, "start")
    template(repo / "src/mlplate/template", "last 0.1.0 build\n")
    commit(repo, "template change between builds, before the release rule")
    for path in ("copier.yml", "cookiecutter.json", "hooks", "{{cookiecutter.__project_slug}}"):
        git(repo, "mv", f"src/mlplate/template/{path}", path)
    write(repo / "{{cookiecutter.__project_slug}}/README.md", "0.2.0\n")
    set_version(repo, "0.2.0")
    commit(repo, "v0.2.0: the template at the root")
    write(repo / "src/mlplate/cli.py", "# code only\n")
    commit(repo, "code change")
    return repo


def readme_at(bundle: Path, tag: str, tmp_path: Path) -> str:
    clone = tmp_path / f"clone-{tag}"
    git(tmp_path, "clone", "--quiet", str(bundle), str(clone))
    git(clone, "checkout", "--quiet", tag)
    assert sorted(path.name for path in clone.iterdir() if path.name != ".git") == [
        "cookiecutter.json",
        "copier.yml",
        "hooks",
        "{{cookiecutter.__project_slug}}",
    ]
    return (clone / "{{cookiecutter.__project_slug}}" / "README.md").read_text()


def test_releases_without_tags_are_the_version_bumps(repo, tmp_path):
    found = releases(repo)
    assert [release.tag for release in found] == ["v0.1.0", "v0.2.0"]
    assert found[0].bump == git(repo, "rev-list", "--max-parents=0", "HEAD")
    assert found[1].bump == git(repo, "rev-parse", "HEAD^")
    bundle = build_bundle(repo, tmp_path / "history.bundle")
    assert bundle_tags(bundle) == ["v0.1.0", "v0.2.0"]
    # Builds between two bumps all recorded v0.1.0: the release is the last template it had.
    assert readme_at(bundle, "v0.1.0", tmp_path) == "last 0.1.0 build\n"
    assert readme_at(bundle, "v0.2.0", tmp_path) == "0.2.0\n"


def test_a_tag_marks_its_release_exactly(repo, tmp_path):
    git(repo, "tag", "v0.1.0", git(repo, "rev-list", "--max-parents=0", "HEAD"))
    bundle = build_bundle(repo, tmp_path / "history.bundle")
    assert readme_at(bundle, "v0.1.0", tmp_path) == "first 0.1.0 build\n"


def test_an_uncommitted_release_is_the_working_tree(repo, tmp_path):
    set_version(repo, "0.3.0")
    write(repo / "{{cookiecutter.__project_slug}}/README.md", "0.3.0 in progress\n")
    bundle = build_bundle(repo, tmp_path / "history.bundle")
    assert bundle_tags(bundle) == ["v0.1.0", "v0.2.0", "v0.3.0"]
    assert readme_at(bundle, "v0.3.0", tmp_path) == "0.3.0 in progress\n"
    assert problems(repo) == []


def test_the_release_check_refuses_a_template_change_without_a_new_version(repo, capsys):
    assert release_check([str(repo)]) == 0
    write(repo / "{{cookiecutter.__project_slug}}/README.md", "changed, same version\n")
    assert release_check([str(repo)]) == 1
    assert "template files changed since v0.2.0 was released" in capsys.readouterr().err
    commit(repo, "changed without a bump")
    assert any("template files changed since v0.2.0" in problem for problem in problems(repo))


def test_the_release_check_wants_a_changelog_section_per_release(repo):
    set_version(repo, "0.4.0")
    assert problems(repo) == [
        "CHANGELOG.md has no section `## v0.4.0`; say what the release changes"
    ]


def test_this_repository_passes_the_release_check():
    assert problems(ROOT) == []


def test_the_runtime_is_released_at_the_template_version_and_changes_only_with_it(repo):
    runtime = repo / "runtime/src/mlplate_runtime/__init__.py"
    write(runtime, '__version__ = "0.1.9"\n')
    assert problems(repo) == [
        'runtime/src/mlplate_runtime/__init__.py does not say __version__ = "0.2.0"; '
        "the runtime is released at mlplate's version"
    ]
    write(runtime, '__version__ = "0.2.0"\n')
    assert problems(repo) == []  # uncommitted: part of the next release
    commit(repo, "runtime changed after the v0.2.0 bump")
    assert problems(repo) == [
        "the runtime (runtime/src) changed since v0.2.0 was released but the version did not: "
        "bump __version__ in both packages and add the CHANGELOG.md section"
    ]
