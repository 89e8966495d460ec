"""A project generated before the thin layout (v0.2.27: every module in the project) updates
to this release with `mlplate update` and passes its own `make ci` with no hand edit."""

from __future__ import annotations

import pytest

from mlplate import __version__
from mlplate.reference import render_release
from mlplate.source import template_url
from tests.projects import PACKAGE, PROJECT_NAME, commit_all
from tests.shell import run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("generated-projects")]
LAST_FULL_LAYOUT = "v0.2.27"


def test_an_untouched_full_layout_project_moves_to_the_runtime_and_passes_make_ci(cli, tmp_path):
    project = tmp_path / PROJECT_NAME
    render_release(
        {"_src_path": template_url()}, {"project_name": PROJECT_NAME}, LAST_FULL_LAYOUT, project
    )
    run("git", "init", "--quiet", "--initial-branch=main", cwd=project)
    commit_all(project, f"generated at {LAST_FULL_LAYOUT}")
    assert (project / "src" / PACKAGE / "models" / "train.py").is_file()

    result = cli("update", str(project))
    assert result.exit_code == 0, result.stderr
    assert f"{LAST_FULL_LAYOUT} -> v{__version__}" in result.stdout
    package = project / "src" / PACKAGE
    assert sorted(p.name for p in package.iterdir()) == [
        "__init__.py",
        "features.py",
        "model.py",
        "py.typed",
    ]
    assert (
        project / ".mlplate" / "wheels" / f"mlplate_runtime-{__version__}-py3-none-any.whl"
    ).is_file()
    commit_all(project, f"update to v{__version__}")
    run("make", "setup", cwd=project)
    run("make", "ci", cwd=project)
    assert (project / "reports" / "promotion.json").is_file()
    assert cli("check", str(project)).exit_code == 0
