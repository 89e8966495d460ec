"""The models the app serves: the champion, and the challenger for canary or shadow traffic."""

from __future__ import annotations

from mlplate_runtime.config import ServingSettings, Settings
from mlplate_runtime.models.loaded import LoadedModel, load_model


def load_models(
    settings: Settings, serving: ServingSettings
) -> tuple[LoadedModel, LoadedModel | None]:
    """The champion, and the challenger when canary or shadow traffic needs one."""
    champion = load_model(settings, role="champion", uri=serving.model_uri)
    challenger = None
    if serving.canary_fraction > 0 or serving.shadow:
        challenger = load_model(settings, role="challenger", uri=serving.challenger_uri)
    return champion, challenger
