"""Fuzz the API against its own OpenAPI document (schemathesis, fixed seed): never a 5xx."""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from schemathesis import GenerationMode

from mlplate_runtime.config import ServingSettings
from mlplate_runtime.models.loaded import LoadedModel
from mlplate_runtime.models.tasks import task_for
from mlplate_runtime.serving.app import create_app


@pytest.fixture(scope="module")
def app(app_settings, fitted, tmp_path_factory):
    contract = app_settings.contract

    def loader(settings, _serving):
        return LoadedModel(
            "champion", "models:/fuzz@champion", fitted, contract, task_for(settings), version="1"
        ), None

    log = tmp_path_factory.mktemp("fuzz") / "predictions.jsonl"
    application = create_app(app_settings, ServingSettings(prediction_log=log), loader=loader)
    with TestClient(application):  # runs the lifespan: the model is loaded
        yield application


def fuzz(operation, mode: GenerationMode, documented: set[str], seen: Counter) -> None:
    """Send up to 40 generated requests to one operation (the same ones on every run)."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @examples(
        max_examples=40,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case) -> None:
        response = case.call()
        seen[(operation.path, mode.value, response.status_code)] += 1
        assert response.status_code < 500, (case.body, response.text)
        assert str(response.status_code) in documented, (case.body, response.text)

    call()


def test_no_request_is_a_server_error_and_every_status_is_documented(app):
    document = app.openapi()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    seen: Counter[tuple[str, str, int]] = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        documented = set(document["paths"][operation.path][operation.method.lower()]["responses"])
        has_input = operation.method.upper() == "POST"  # GETs take no input to break
        for mode in list(GenerationMode) if has_input else [GenerationMode.POSITIVE]:
            fuzz(operation, mode, documented, seen)
    assert seen[("/predict", "positive", 200)] > 0  # valid records reached the model
    assert seen[("/invocations", "positive", 200)] > 0
    assert seen[("/predict", "negative", 422)] > 0
