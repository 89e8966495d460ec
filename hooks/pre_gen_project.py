"""Validate the answers before cookiecutter writes anything.

The rules are copier.yml's validators: this hook renders the same Jinja validators
(copier runs them itself), so copier, cookiecutter, cruft and `mlplate new` accept and refuse
the same answers. cookiecutter.json carries them as private keys (``template_rules``; a test
keeps them equal to copier.yml), because a hook run by cookiecutter or cruft cannot count on
finding copier.yml. Cookiecutter renders this file with Jinja, which fills ANSWERS_JSON
below; the rest is plain Python. mlplate imports this
module and calls ``answer_errors`` itself. On an invalid answer the hook prints one
line per problem and exits 1; cookiecutter then removes the half-made project folder.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path

ANSWERS_JSON = r"""{{ cookiecutter | tojson }}"""
TRUE_WORDS = {"true", "yes", "y", "1", "on"}


def derive_names(project_name: str) -> tuple[str, str]:
    """Return (project_slug, package_name) derived from a project name ("Émile" -> emile)."""
    name = project_name.strip().lower()
    for accented, plain in copier_config(_template_dir())["latin_letters"]["default"].items():
        name = name.replace(accented, plain)
    slug = name.replace(" ", "-").replace("_", "-")
    return slug, slug.replace("-", "_")


def _template_dir() -> Path:
    """Where copier.yml is when mlplate imports this module: beside hooks/."""
    return Path(__file__).resolve().parent.parent


@cache
def copier_config(template_dir: Path) -> dict:
    """copier.yml as a dictionary."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when PyYAML has it
    return yaml.load((template_dir / "copier.yml").read_text(encoding="utf-8"), Loader=loader)


def template_rules(config: dict) -> dict:
    """What the hooks need of copier.yml: the validators (name, when, Jinja), the lists they
    read, and the ``_exclude`` entries that depend on answers. cookiecutter.json holds these."""
    return {
        "_validators": [
            [name, spec.get("when", True), spec["validator"]]
            for name, spec in config.items()
            if not name.startswith("_") and isinstance(spec, dict) and "validator" in spec
        ],
        "_validator_context": {
            name: spec.get("default")
            for name, spec in config.items()
            if isinstance(spec, dict) and spec.get("when") is False and spec.get("type") == "yaml"
        },
        "_conditional_excludes": [
            entry for entry in config["_exclude"] if "cookiecutter." in entry
        ],
    }


def answer_errors(answers: dict) -> list[str]:
    """Render every applicable validator of copier.yml; return the messages, one per problem."""
    from jinja2.sandbox import SandboxedEnvironment

    rules = answers if "_validators" in answers else template_rules(copier_config(_template_dir()))
    environment = SandboxedEnvironment()
    context = dict(rules["_validator_context"])
    context.update(answers)
    errors = []
    for _name, when, validator in rules["_validators"]:
        if isinstance(when, str):
            when = environment.from_string(when).render(**context).strip().lower() in TRUE_WORDS
        if not when:
            continue
        message = environment.from_string(validator).render(**context).strip()
        if message:
            errors.append(message)
    return errors


def main() -> int:
    answers = json.loads(ANSWERS_JSON)
    if answers.get("_validated_by") == "mlplate":  # `mlplate new` applied these same rules
        return 0
    errors = answer_errors(answers)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
