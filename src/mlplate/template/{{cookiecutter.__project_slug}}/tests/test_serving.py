"""API contract: every route, every bad request, readiness, canary and shadow routing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.__package_name }}.config import ServingSettings
from {{ cookiecutter.__package_name }}.data.example import make_customers
from {{ cookiecutter.__package_name }}.features.build import (
    RAW_INPUTS,
    add_features,
    feature_matrix,
)
from {{ cookiecutter.__package_name }}.models.train import build_model
from {{ cookiecutter.__package_name }}.serving.app import create_app
from {{ cookiecutter.__package_name }}.serving.models import LoadedModel

RECORD = {
    "age": 41,
    "tenure_months": 12,
    "contract": "month-to-month",
    "payment_method": "electronic-check",
    "monthly_charges": 70.5,
    "total_charges": 850.0,
    "support_calls": 2,
}


@pytest.fixture(scope="module")
def fitted(module_settings):
    frame = add_features(make_customers(300, seed=1))
    return build_model(module_settings).fit(
        feature_matrix(frame), frame[module_settings.params.data.target]
    )


def make_client(settings, fitted, tmp_path, **options):
    log = tmp_path / "predictions.jsonl"
    serving = ServingSettings(prediction_log=log, max_batch_size=5, **options)

    def loader(_settings, _serving):
        champion = LoadedModel(
            "champion", "models:/demo@champion", fitted, version="3", run_id="r3"
        )
        challenger = LoadedModel("challenger", "models:/demo@challenger", fitted, version="4")
        return champion, challenger if (
            options.get("canary_fraction") or options.get("shadow")
        ) else None

    return TestClient(create_app(settings, serving, loader=loader)), log


def read_log(client, log):
    client.app.state.serving.logger.flush()
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def client(module_settings, fitted, tmp_path):
    test_client, log = make_client(module_settings, fitted, tmp_path)
    with test_client:
        yield test_client, log


def test_health_ready_ping_and_metadata(client):
    api, _ = client
    assert api.get("/health").json() == {"status": "ok"}
    assert api.get("/ready").status_code == 200
    assert api.get("/ping").status_code == 200
    meta = api.get("/metadata").json()
    assert meta["champion"]["version"] == "3"
    assert meta["challenger"] is None


def test_predict_scores_a_batch_and_logs_each_record(client):
    api, log = client
    response = api.post("/predict", json={"records": [RECORD, {**RECORD, "tenure_months": 60}]})
    assert response.status_code == 200
    body = response.json()
    assert len(body["predictions"]) == 2
{%- if cookiecutter.task == 'regression' %}
    assert all(set(p) == {"prediction"} and p["prediction"] > 0 for p in body["predictions"])
{%- else %}
    assert all(0 <= p["probability"] <= 1 for p in body["predictions"])
    assert all(p["label"] == int(p["probability"] >= 0.5) for p in body["predictions"])
{%- endif %}
    entries = read_log(api, log)
    assert [e["record_id"] for e in entries] == [
        f"{body['request_id']}-0",
        f"{body['request_id']}-1",
    ]
    assert entries[0]["features"] == RECORD
    assert entries[0]["model_version"] == "3"


def test_optional_fields_may_be_missing(client):
    api, _ = client
    partial = {key: value for key, value in RECORD.items() if key != "total_charges"}
    assert api.post("/predict", json={"records": [partial]}).status_code == 200


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"records": [{k: v for k, v in RECORD.items() if k != "age"}]}, "age", "Field required"),
        ({"records": [{**RECORD, "age": "old"}]}, "age", "valid integer"),
        ({"records": [{**RECORD, "contract": "weekly"}]}, "contract", "Input should be"),
        ({"records": [{**RECORD, "age": 7}]}, "age", "greater than or equal to 18"),
        ({"records": [{**RECORD, "colour": "red"}]}, "colour", "Extra inputs"),
        ({"records": []}, "records", "at least 1 item"),
        ({"records": [RECORD] * 6}, "records", "at most 5 items"),
    ],
)
def test_bad_requests_get_field_level_422_and_are_not_logged(client, payload, field, message):
    api, log = client
    response = api.post("/predict", json=payload)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(field in map(str, error["loc"]) and message in error["msg"] for error in errors), (
        errors
    )
    assert read_log(api, log) == []


def test_malformed_json_is_a_422(client):
    api, log = client
    response = api.post(
        "/predict", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert read_log(api, log) == []


def test_invocations_accepts_json_and_csv(client):
    api, _ = client
    as_json = api.post("/invocations", json={"instances": [RECORD]})
    assert as_json.status_code == 200
    header = ",".join(RAW_INPUTS)
    row = ",".join(str(RECORD[name]) for name in RAW_INPUTS)
    with_header = api.post(
        "/invocations", content=f"{header}\n{row}\n", headers={"content-type": "text/csv"}
    )
    without_header = api.post(
        "/invocations", content=f"{row}\n{row}\n", headers={"content-type": "text/csv"}
    )
    assert with_header.status_code == without_header.status_code == 200
    assert len(without_header.json()["predictions"]) == 2
    assert with_header.json()["predictions"] == as_json.json()["predictions"]


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"{oops", "application/json", "malformed JSON"),
        (b'{"instances": []}', "application/json", "the batch is empty"),
        (b"41,12\n", "text/csv", "CSV row 1 has 2 values"),
        (b"41,12,weekly,bank-transfer,70,800,1\n", "text/csv", "Input should be"),
        (b"<xml/>", "application/xml", "unsupported content type"),
        (json.dumps({"instances": [RECORD] * 6}).encode(), "application/json", "the limit is 5"),
    ],
)
def test_invocations_rejects_bad_payloads(client, content, content_type, message):
    api, log = client
    response = api.post("/invocations", content=content, headers={"content-type": content_type})
    assert response.status_code == 422
    assert message in json.dumps(response.json())
    assert read_log(api, log) == []


def test_not_ready_when_the_model_cannot_load(module_settings, tmp_path):
    def failing(_settings, _serving):
        raise RuntimeError("registry unreachable")

    app = create_app(module_settings, ServingSettings(prediction_log=None), loader=failing)
    with TestClient(app) as api:
        assert api.get("/health").status_code == 200
        ready = api.get("/ready")
        assert ready.status_code == 503
        assert "registry unreachable" in ready.json()["reason"]
        assert api.get("/ping").status_code == 503
        assert api.post("/predict", json={"records": [RECORD]}).status_code == 503


class ConstantModel:
    """Answers instantly: routing tests need many requests, not real scores."""

{%- if cookiecutter.task == 'regression' %}

    def predict(self, features):
        return np.full(len(features), 100.0)
{%- else %}

    def predict_proba(self, features):
        return np.tile([0.5, 0.5], (len(features), 1))
{%- endif %}


def test_canary_routes_about_the_configured_share_to_the_challenger(module_settings, tmp_path):
    api, log = make_client(module_settings, ConstantModel(), tmp_path, canary_fraction=0.3)
    with api:
        api.app.state.serving.random.seed(0)
        models = [
            api.post("/predict", json={"records": [RECORD]}).json()["model"] for _ in range(400)
        ]
        entries = read_log(api, log)
    share = models.count("challenger") / len(models)
    assert 0.22 < share < 0.38  # 0.3 +- 3.5 standard deviations for n=400
    assert {e["model"] for e in entries} == {"champion", "challenger"}
    assert not any(e["shadow"] for e in entries)


def test_shadow_scores_every_request_with_the_challenger_silently(
    module_settings, fitted, tmp_path
):
    api, log = make_client(module_settings, fitted, tmp_path, shadow=True)
    with api:
        bodies = [api.post("/predict", json={"records": [RECORD]}).json() for _ in range(5)]
        entries = read_log(api, log)
    assert {body["model"] for body in bodies} == {"champion"}
    shadow = [e for e in entries if e["shadow"]]
    assert len(shadow) == 5
    assert {e["model"] for e in shadow} == {"challenger"}


def test_concurrent_requests_are_scored_together_with_the_right_slices():
    import asyncio

    from {{ cookiecutter.__package_name }}.serving.batching import MicroBatcher

    calls = []

    def score(records):
        calls.append(len(records))
        return np.array([record["x"] for record in records], dtype=float)

    async def scenario():
        batcher = MicroBatcher(score)
        requests = [[{"x": i}, {"x": i + 0.5}] for i in range(10)]
        return await asyncio.gather(*(batcher.score(records) for records in requests))

    results = asyncio.run(scenario())
    assert [result.tolist() for result in results] == [[i, i + 0.5] for i in range(10)]
    assert sum(calls) == 20
    assert len(calls) < 10  # batched, not one call per request


def test_a_failing_model_fails_every_waiting_request():
    import asyncio

    from {{ cookiecutter.__package_name }}.serving.batching import MicroBatcher

    def broken(records):
        raise ValueError("model exploded")

    async def scenario():
        batcher = MicroBatcher(broken)
        return await asyncio.gather(
            *(batcher.score([{"x": 1}]) for _ in range(3)), return_exceptions=True
        )

    assert all(isinstance(result, ValueError) for result in asyncio.run(scenario()))
