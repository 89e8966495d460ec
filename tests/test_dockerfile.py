"""The serving Dockerfile passes hadolint (no Docker engine here: lint, not build)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import render

HADOLINT = str(Path(sys.executable).parent / "hadolint")


def test_dockerfile_passes_hadolint_and_keeps_secrets_out(tmp_path):
    project = render(tmp_path / "p", serving="fastapi", docker=True)
    dockerfile = project / "Dockerfile"
    result = subprocess.run(
        [HADOLINT, "--no-color", str(dockerfile)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = dockerfile.read_text()
    assert text.count("FROM ") == 2  # multi-stage
    assert "USER 10001" in text and "HEALTHCHECK" in text
    assert "SECRET" not in text and "PASSWORD" not in text
    ignored = (project / ".dockerignore").read_text().split()
    assert {".git", ".venv", "mlflow.db", ".env"} <= set(ignored)


def test_no_dockerfile_without_serving_or_docker(tmp_path):
    assert not (render(tmp_path / "a", serving="none", docker=True) / "Dockerfile").exists()
    assert not (render(tmp_path / "b", serving="fastapi", docker=False) / "Dockerfile").exists()


def test_pipeline_image_passes_hadolint_and_carries_the_dvc_pointers(tmp_path):
    project = render(tmp_path / "p", orchestrator="kubeflow", serving="fastapi", docker=True)
    dockerfile = project / "pipeline.Dockerfile"
    result = subprocess.run(
        [HADOLINT, "--no-color", str(dockerfile)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = dockerfile.read_text()
    assert "USER 10001" in text and "ARG GIT_COMMIT" in text
    assert "COPY --chown=app:app data/raw.dvc data/contract.yaml data/" in text
    # The serving image's .dockerignore drops data/ but keeps the pointer the steps pull by
    # and the data contract every stage and the API read.
    ignored = (project / ".dockerignore").read_text().split()
    assert ignored.index("!data/raw.dvc") > ignored.index("data")
    assert ignored.index("!data/contract.yaml") > ignored.index("data")
    assert not (render(tmp_path / "q") / "pipeline.Dockerfile").exists()


def test_feature_store_images_pass_hadolint_and_carry_the_feast_repository(tmp_path):
    """The API's /predict/by-id and the pipeline's feature_store step read feature_repo/."""
    project = render(
        tmp_path / "p",
        orchestrator="sagemaker",
        feature_store="feast",
        serving="fastapi",
        docker=True,
    )
    for name in ("Dockerfile", "pipeline.Dockerfile"):
        dockerfile = project / name
        result = subprocess.run(
            [HADOLINT, "--no-color", str(dockerfile)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, name + result.stdout + result.stderr
        assert "COPY --chown=app:app feature_repo feature_repo/" in dockerfile.read_text(), name
    assert (
        "feature_repo" not in (render(tmp_path / "q", serving="fastapi") / "Dockerfile").read_text()
    )
