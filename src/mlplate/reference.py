"""Render a project's template at a given release: what `check` compares with and what an
update merges renamed files against."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlplate.errors import MlplateError
from mlplate.source import offline_git_environment


def render_release(
    answers: Mapping[str, Any], data: Mapping[str, Any], version: str, out: Path
) -> Path:
    """Render the template the project records (``answers``) at ``version`` into ``out``."""
    import copier
    from plumbum import local

    try:
        with local.env(**offline_git_environment(answers)), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            copier.run_copy(
                str(answers["_src_path"]),
                out,
                data=dict(data),
                vcs_ref=version,
                defaults=True,
                quiet=True,
            )
    except Exception as error:
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        raise MlplateError(f"cannot render the template {version}: {reason}") from None
    return out
