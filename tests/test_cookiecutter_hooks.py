"""Plain cookiecutter on the template: the hooks validate and prune like the CLI does."""

from __future__ import annotations

import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

from mlplate.template import template_root


def bake(tmp_path, **context):
    return cookiecutter(
        str(template_root()), no_input=True, extra_context=context, output_dir=str(tmp_path)
    )


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"project_name": ""}, "project_name '' is invalid"),
        ({"project_name": "9lives"}, "start with a letter"),
        ({"project_name": "import"}, "a Python keyword"),
        ({"project_name": "logging"}, "a standard-library module"),
        ({"project_name": "pandas"}, "a module the generated project imports"),
        ({"project_name": "tests"}, "a module the generated project imports"),
        ({"author_email": "nobody"}, "is not an email address"),
    ],
)
def test_pre_gen_hook_rejects_bad_answers_and_leaves_nothing(tmp_path, capfd, context, expected):
    with pytest.raises(FailedHookException):
        bake(tmp_path, **context)
    assert expected in capfd.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_cookiecutter_refuses_an_unknown_choice(tmp_path):
    with pytest.raises(ValueError, match="ci"):
        bake(tmp_path, ci="jenkins")
    assert list(tmp_path.iterdir()) == []


def test_post_gen_hook_removes_turned_off_paths(tmp_path):
    project = bake(tmp_path, project_name="Fraud Model", ci="none")
    names = {path.name for path in (tmp_path / "fraud-model").iterdir()}
    assert project.endswith("fraud-model")
    assert ".github" not in names
    assert ".gitlab-ci.yml" not in names
    assert ".copier-answers.yml" not in names
    assert "Makefile" in names
