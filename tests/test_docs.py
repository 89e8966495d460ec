"""mlplate's documentation: generated pages are current and the site builds strictly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlplate.docs import PAGES

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize("name", sorted(PAGES))
def test_generated_page_matches_the_template(name):
    committed = (ROOT / "docs" / name).read_text()
    assert committed == PAGES[name](), f"docs/{name} is stale: run python -m mlplate.docs"


def test_docs_site_builds_strictly(tmp_path):
    mkdocs = str(Path(sys.executable).parent / "mkdocs")
    result = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    options = (tmp_path / "site" / "options" / "index.html").read_text()
    assert "serving" in options and "python_version" in options


def test_cookiecutter_json_carries_copier_yml_s_rules_for_the_hooks():
    from mlplate.docs import cookiecutter_json
    from mlplate.template import template_root

    committed = (template_root() / "cookiecutter.json").read_text(encoding="utf-8")
    assert committed == cookiecutter_json(), "run `python -m mlplate.docs` and commit"
