"""cruft works on the repository as on any cookiecutter template: create writes what
cookiecutter writes (the hooks need nothing but cookiecutter's context), check tells when the
template moved on, and update brings the change in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mlplate.answers import resolve_answers
from mlplate.render import RENDERERS
from tests.conftest import tree
from tests.test_update import git, release, template_repository

CRUFT = str(Path(sys.executable).parent / "cruft")


def cruft(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CRUFT, *args], cwd=cwd, capture_output=True, text=True, check=False)


def test_cruft_create_check_and_update_from_a_local_clone(tmp_path):
    repo = template_repository(tmp_path / "mlplate")

    context = '{"project_name": "demo-model", "ci": "gitlab", "serving": "none"}'
    created = cruft("create", "--no-input", "--extra-context", context, str(repo), cwd=tmp_path)
    assert created.returncode == 0, created.stdout + created.stderr
    project = tmp_path / "demo-model"
    answers = resolve_answers({"project_name": "demo-model", "ci": "gitlab", "serving": "none"})
    RENDERERS["cookiecutter"](tmp_path / "expected", answers)
    made = tree(project)
    assert made.pop(".cruft.json")
    assert made == tree(tmp_path / "expected")  # the hooks ran: GitHub and serving files gone
    assert not (project / ".github").exists() and (project / ".gitlab-ci.yml").is_file()

    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "created with cruft")
    readme = repo / "{{cookiecutter.__project_slug}}" / "README.md"
    readme.write_text(readme.read_text() + "\nA line of the next release.\n")
    release(repo, "v1.1.0")
    assert cruft("check", cwd=project).returncode == 1  # the template moved on
    updated = cruft("update", "--skip-apply-ask", cwd=project)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert "A line of the next release." in (project / "README.md").read_text()
    assert cruft("check", cwd=project).returncode == 0
