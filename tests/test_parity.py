"""Every answer combination renders with no Jinja left, to files that parse and code that passes
ruff; copier and cookiecutter render every pair of answer values to the same bytes, and
mlplate's answers file is byte for byte copier's."""

from __future__ import annotations

import itertools

import pytest
import yaml

from mlplate.answers import resolve_answers
from mlplate.answers_file import answers_file_text
from tests.conftest import render, tree
from tests.matrix import choice_values, combinations, combo_id, pairwise
from tests.test_static import parse_data_files, ruff_passes

COMBOS = combinations()
LEFTOVERS = (b"{{", b"{%", b"cookiecutter.")


@pytest.mark.parametrize("combo", COMBOS, ids=[combo_id(combo) for combo in COMBOS])
def test_every_combination_renders_files_that_parse_and_pass_ruff(tmp_path, combo):
    project = render(tmp_path / "p", "cookiecutter", **combo)
    for path, content in tree(project).items():
        text = content.replace(b"${{", b"")  # GitHub Actions expressions are meant to stay
        assert not any(marker in text for marker in LEFTOVERS), path
        assert not any(marker.decode() in path for marker in LEFTOVERS), path
    assert parse_data_files(project) >= 4  # params.yaml, dvc.yaml, pyproject.toml...
    ruff_passes(project)


# The engines differ in how they read the template (Jinja set-up, excluded paths, answers),
# not in what one answer combination means: every pair of answer values is compared.
PAIRS = pairwise(choice_values())


@pytest.mark.parametrize("combo", PAIRS, ids=[combo_id(combo) for combo in PAIRS])
def test_copier_and_cookiecutter_render_identical_trees(tmp_path, combo):
    by_copier = tree(render(tmp_path / "copier", "copier", **combo))
    by_cookiecutter = tree(render(tmp_path / "cookiecutter", "cookiecutter", **combo))
    # mlplate writes the answers file itself for both engines: it must be what copier writes.
    answers = resolve_answers({"project_name": "demo-model"}, combo)
    recorded = by_copier.pop(".copier-answers.yml")
    source = yaml.safe_load(recorded)["_src_path"]  # the template folder copier rendered
    assert recorded == answers_file_text(answers, {"_src_path": source}).encode()
    assert sorted(by_copier) == sorted(by_cookiecutter)
    for path, content in by_copier.items():
        assert content == by_cookiecutter[path], path


def test_the_matrices_cover_every_choice_value_and_pair():
    values = choice_values()
    for name, options in values.items():
        assert {combo[name] for combo in COMBOS} == set(options), name
    for (a, a_options), (b, b_options) in itertools.combinations(values.items(), 2):
        for pair in itertools.product(a_options, b_options):
            assert any((combo[a], combo[b]) == pair for combo in PAIRS), (a, b, pair)
