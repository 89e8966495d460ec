"""Both engines render every answer combination to the same bytes, with no Jinja left, files
that parse and code that passes ruff; mlplate's answers file is byte for byte copier's."""

from __future__ import annotations

import pytest
import yaml

from mlplate.answers import resolve_answers
from mlplate.answers_file import answers_file_text
from tests.conftest import render, tree
from tests.matrix import combinations, combo_id
from tests.test_static import parse_data_files, ruff_passes

COMBOS = combinations()
LEFTOVERS = (b"{{", b"{%", b"cookiecutter.")


@pytest.mark.parametrize("combo", COMBOS, ids=[combo_id(combo) for combo in COMBOS])
def test_copier_and_cookiecutter_render_identical_trees_that_parse_and_pass_ruff(tmp_path, combo):
    project = render(tmp_path / "copier", "copier", **combo)
    by_copier = tree(project)
    by_cookiecutter = tree(render(tmp_path / "cookiecutter", "cookiecutter", **combo))
    # mlplate writes the answers file itself for both engines: it must be what copier writes.
    answers = resolve_answers({"project_name": "demo-model"}, combo)
    recorded = by_copier.pop(".copier-answers.yml")
    source = yaml.safe_load(recorded)["_src_path"]  # the template folder copier rendered
    assert recorded == answers_file_text(answers, {"_src_path": source}).encode()
    assert sorted(by_copier) == sorted(by_cookiecutter)
    for path, content in by_copier.items():
        assert content == by_cookiecutter[path], path
    for path, content in by_copier.items():
        text = content.replace(b"${{", b"")  # GitHub Actions expressions are meant to stay
        assert not any(marker in text for marker in LEFTOVERS), path
        assert not any(marker.decode() in path for marker in LEFTOVERS), path
    assert parse_data_files(project) >= 4  # params.yaml, dvc.yaml, pyproject.toml, answers...
    ruff_passes(project)


def test_the_matrix_covers_every_choice_value():
    from tests.matrix import choice_values

    for name, values in choice_values().items():
        assert {combo[name] for combo in COMBOS} == set(values), name
