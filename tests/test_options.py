"""copier.yml is the one source of questions: cookiecutter.json and the hook must agree."""

from __future__ import annotations

import json
import re

from mlplate.answers import copier_config, questions
from mlplate.template import load_hook, template_root


def cookiecutter_config() -> dict:
    return json.loads((template_root() / "cookiecutter.json").read_text())


def test_cookiecutter_asks_exactly_the_copier_questions():
    asked = [key for key in cookiecutter_config() if not key.startswith("_")]
    assert sorted(asked) == sorted(question.name for question in questions())


def test_cookiecutter_defaults_and_choices_match_copier():
    config = cookiecutter_config()
    for question in questions():
        value = config[question.name]
        if question.choices:
            assert isinstance(value, list), question.name
            assert value[0] == question.default, f"{question.name}: first choice is the default"
            assert sorted(value) == sorted(question.choices), question.name
        else:
            assert value == question.default, question.name


def test_derived_values_are_private_in_cookiecutter_and_hidden_in_copier():
    config = cookiecutter_config()
    for name in ("project_slug", "package_name"):
        assert f"__{name}" in config
        assert copier_config()[name]["when"] is False


def test_copier_cookiecutter_dict_carries_every_answer_and_derived_value():
    expression = copier_config()["cookiecutter"]["default"]
    keys = set(re.findall(r'"([\w]+)":', expression))
    derived = {"__project_slug", "__package_name", "_supported_pythons", "_runtime_version"}
    expected = {question.name for question in questions()} | derived
    assert keys == expected


def test_cookiecutter_slugs_names_with_copier_s_letters():
    assert cookiecutter_config()["_latin_letters"] == copier_config()["latin_letters"]["default"]


def test_cookiecutter_lists_the_supported_pythons_copier_offers():
    assert (
        cookiecutter_config()["_supported_pythons"] == copier_config()["python_version"]["choices"]
    )


def test_every_optional_path_names_a_file_of_the_template():
    """A typo in copier.yml's _exclude would silently ship a file: each entry must match."""
    body = template_root() / "{{cookiecutter.__project_slug}}"
    hook = load_hook("post_gen_project")
    entries = hook.conditional_excludes({})
    assert len(entries) >= 9
    for entry in entries:
        pattern = re.search(r"%}(.+?){%", entry).group(1)
        matches = list(body.glob(pattern.replace("src/*/", "src/{{cookiecutter.__package_name}}/")))
        assert matches, f"copier.yml _exclude entry {entry!r} matches no template file"


def test_options_fit_an_80_column_terminal(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    lines = cli("options").stdout.splitlines()
    assert max(map(len, lines)) <= 80
    helps = [line for line in lines if line.startswith("    ")]
    assert min(len(line.split()) for line in helps) >= 1
    # help text wraps at the width, not one word per line
    assert sum(len(line) > 60 for line in helps) >= 3


def test_options_command_lists_every_question(cli):
    result = cli("options")
    assert result.exit_code == 0
    for question in questions():
        assert question.name in result.stdout
