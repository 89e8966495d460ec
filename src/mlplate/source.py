"""Where generated projects say their template comes from, and how to reach it offline.

The template source is mlplate's repository, whose URL is declared once, in
pyproject.toml (``[project.urls] Repository``). A team's fork or internal mirror
replaces it with ``--template-url`` or a preset's ``template_url``. For mlplate's
own source (and the URL projects recorded before v0.2.0) git is told, for one
copier call, to read the release bundle that ships with mlplate instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

# What projects generated before v0.2.0 recorded; that repository was never published.
LEGACY_URLS = ("https://github.com/mlplate/mlplate-template.git",)


@cache
def template_url() -> str:
    """mlplate's repository URL, from the installed package metadata (or pyproject.toml)."""
    from importlib import metadata

    try:
        urls = metadata.metadata("mlplate").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip() == "Repository":
            return url.strip()
    import tomllib

    pyproject = Path(__file__).parents[2] / "pyproject.toml"
    return tomllib.loads(pyproject.read_text())["project"]["urls"]["Repository"]


def is_own_source(url: str) -> bool:
    """Whether ``url`` is mlplate's own template (whose history ships with mlplate)."""
    return url in (template_url(), *LEGACY_URLS)


def offline_git_environment(answers: Mapping[str, Any]) -> dict[str, str]:
    """Git configuration mapping mlplate's URLs to the local release bundle (empty for others)."""
    if not is_own_source(str(answers.get("_src_path", ""))):
        return {}
    from mlplate.history import history_bundle

    bundle = history_bundle()
    urls = (template_url(), *LEGACY_URLS)
    environment = {"GIT_CONFIG_COUNT": str(len(urls))}
    for index, url in enumerate(urls):
        environment[f"GIT_CONFIG_KEY_{index}"] = f"url.{bundle}.insteadOf"
        environment[f"GIT_CONFIG_VALUE_{index}"] = url
    return environment
