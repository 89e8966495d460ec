"""The models the app serves: the champion, and the challenger for canary or shadow traffic."""

from __future__ import annotations

from mlplate_runtime.config import ServingSettings, Settings
from mlplate_runtime.models.loaded import LoadedModel, load_model, require_store


def load_models(
    settings: Settings, serving: ServingSettings
) -> tuple[LoadedModel, LoadedModel | None]:
    """The champion, and the challenger when canary or shadow traffic needs one."""
    champion = load_model(settings, role="champion", uri=serving.model_uri)
    challenger = None
    if serving.canary_fraction > 0 or serving.shadow:
        challenger = load_model(settings, role="challenger", uri=serving.challenger_uri)
    return champion, challenger


def alias_versions(settings: Settings, serving: ServingSettings) -> dict[str, str]:
    """The version each alias the app serves by points to now (a role given by URI is fixed)."""
    from mlflow import MlflowClient

    roles = ["champion"] if serving.model_uri is None else []
    if (serving.canary_fraction > 0 or serving.shadow) and serving.challenger_uri is None:
        roles.append("challenger")
    if not roles:
        return {}
    require_store(settings.tracking_uri)  # MLflow would create an empty SQLite store
    registry = MlflowClient(settings.tracking_uri, registry_uri=settings.tracking_uri)
    name = settings.params.mlflow.registered_model
    return {role: str(registry.get_model_version_by_alias(name, role).version) for role in roles}
