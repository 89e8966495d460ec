"""MLflow set-up shared by the stages that log runs or use the registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlplate_runtime.config import Settings


def require_server(uri: str, timeout: float = 5.0) -> None:
    """Fail in one line when an MLflow server does not answer (MLflow retries for minutes)."""
    import urllib.error
    import urllib.request

    from mlplate_runtime.errors import ProjectError

    if not uri.startswith(("http://", "https://")):
        return
    try:
        health = f"{uri.rstrip('/')}/health"  # http(s) only: checked above
        urllib.request.urlopen(health, timeout=timeout).close()  # noqa: S310
    except urllib.error.HTTPError:
        return  # it answered (perhaps asking for credentials): reachable
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        from mlplate_runtime.redact import redact

        raise ProjectError(
            f"MLflow server {redact(uri)} is not reachable ({redact(str(reason))}); start it "
            "(`make mlflow-server`) "
            "or point MLFLOW_TRACKING_URI at a running one"
        ) from None


def start_tracking(settings: Settings) -> Any:
    """Point MLflow at the configured store and experiment; return the mlflow module."""
    import mlflow

    require_server(settings.tracking_uri)
    mlflow.set_tracking_uri(settings.tracking_uri)
    name = settings.params.mlflow.experiment
    if settings.tracking_uri.startswith("sqlite:") and mlflow.get_experiment_by_name(name) is None:
        # A local store keeps artifacts beside the project, not in the working directory.
        location = (settings.root / "mlartifacts").absolute().as_uri()
        mlflow.create_experiment(name, artifact_location=location)
    mlflow.set_experiment(name)
    return mlflow


def client(settings: Settings) -> Any:
    """An MlflowClient for the configured tracking store (and its model registry)."""
    from mlflow import MlflowClient

    require_server(settings.tracking_uri)
    return MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)


def read_run_info(settings: Settings) -> dict[str, Any]:
    """Read what `train` recorded about its MLflow run (run id, model URI, lineage tags)."""
    from mlplate_runtime.errors import ProjectError

    path: Path = settings.path(settings.params.train.run_info_path)
    if not path.exists():
        raise ProjectError(f"{path} does not exist; run `dvc repro` (or `make all`) first")
    return json.loads(path.read_text())
