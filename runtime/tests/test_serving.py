"""API contract: every route, every bad request, readiness, canary and shadow routing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from mlplate_runtime.config import ServingSettings
from mlplate_runtime.data.synthetic import json_records
from mlplate_runtime.models.loaded import LoadedModel
from mlplate_runtime.models.tasks import task_for
from mlplate_runtime.serving.app import create_app
from support import PROJECT_ROOT


@pytest.fixture(scope="module")
def records(module_settings, sample):
    """Valid request records: complete ones first (no optional field left out)."""
    all_records = json_records(sample, module_settings.contract)
    complete = [r for r in all_records if None not in r.values()]
    return complete + [r for r in all_records if None in r.values()]


def loaded(settings, role, model, **details):
    return LoadedModel(
        role, f"models:/demo@{role}", model, settings.contract, task_for(settings), **details
    )


def make_client(settings, fitted, tmp_path, *, challenger_passed=True, **options):
    log = tmp_path / "predictions.jsonl"
    serving = ServingSettings(prediction_log=log, max_batch_size=5, **options)

    def loader(_settings, _serving):
        champion = loaded(settings, "champion", fitted, version="3", run_id="r3")
        challenger = loaded(
            settings,
            "challenger",
            fitted,
            version="4",
            gate_passed=challenger_passed,
            gate_reason="worse",
        )
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


def test_predict_scores_a_batch_and_logs_each_record(client, records, module_settings):
    api, log = client
    response = api.post("/predict", json={"records": records[:2]})
    assert response.status_code == 200
    body = response.json()
    assert len(body["predictions"]) == 2
    contract = module_settings.contract
    for prediction in body["predictions"]:
        if contract.task == "regression":
            assert isinstance(prediction["prediction"], float)
        else:
            assert prediction["label"] in contract.classes
            assert set(prediction["probabilities"]) == {str(c) for c in contract.classes}
            assert sum(prediction["probabilities"].values()) == pytest.approx(1, abs=1e-4)
            assert (
                prediction["probability"] == prediction["probabilities"][str(prediction["label"])]
            )
    ids = [p["record_id"] for p in body["predictions"]]
    assert ids == [f"{body['request_id']}-0", f"{body['request_id']}-1"]
    entries = read_log(api, log)
    assert [
        e["record_id"] for e in entries
    ] == ids  # the answer's ids are the log's (feedback joins on them)
    assert entries[0]["features"] == records[0]
    assert entries[0]["model_version"] == "3"


def test_optional_fields_may_be_missing(client, records, module_settings):
    api, _ = client
    optional = [
        n for n in module_settings.contract.features if module_settings.contract.columns[n].nullable
    ]
    partial = {key: value for key, value in records[0].items() if key not in optional}
    assert api.post("/predict", json={"records": [partial]}).status_code == 200


def bad_requests(contract, record):
    """(case id, payload, field, message) for every kind of bad record the contract allows."""
    cases = []
    required = [n for n in contract.features if not contract.columns[n].nullable]
    if required:
        name = required[0]
        cases.append(
            ("missing", {k: v for k, v in record.items() if k != name}, name, "Field required")
        )
    numbers = [n for n in contract.features if contract.columns[n].type in ("numeric", "integer")]
    if numbers:
        cases.append(("text", {**record, numbers[0]: "lots"}, numbers[0], "valid"))
    floats = [n for n in contract.features if contract.columns[n].type == "numeric"]
    if floats:
        cases.append(("infinite", {**record, floats[0]: float("inf")}, floats[0], "finite number"))
    bounded = [n for n in numbers if contract.columns[n].max is not None]
    if bounded:
        name = bounded[0]
        spec = contract.columns[name]
        above = int(spec.max) + 1 if spec.type == "integer" else spec.max + 1
        cases.append(("range", {**record, name: above}, name, "less than or equal"))
    categorical = [n for n in contract.features if contract.columns[n].type == "categorical"]
    if categorical:
        cases.append(
            (
                "category",
                {**record, categorical[0]: "no-such-category"},
                categorical[0],
                "Input should be",
            )
        )
    cases.append(("extra", {**record, "zz not a column": 1}, "zz not a column", "Extra inputs"))
    return [
        (case, {"records": [payload]}, field, message) for case, payload, field, message in cases
    ]


def test_bad_requests_get_field_level_422_and_are_not_logged(client, records, module_settings):
    api, log = client
    cases = bad_requests(module_settings.contract, records[0])
    cases += [
        ("empty", {"records": []}, "records", "at least 1 item"),
        ("too many", {"records": records[:6]}, "records", "at most 5 items"),
    ]
    for case, payload, field, message in cases:
        response = api.post(
            "/predict", content=json.dumps(payload), headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, case
        errors = response.json()["detail"]
        assert any(
            field in map(str, error["loc"]) and message in error["msg"] for error in errors
        ), (case, errors)
    assert read_log(api, log) == []


def test_malformed_json_is_a_422(client):
    api, log = client
    response = api.post(
        "/predict", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert read_log(api, log) == []


def _answers(body):
    """The predictions without their per-request ids."""
    return [{k: v for k, v in p.items() if k != "record_id"} for p in body["predictions"]]


def _csv_value(value):
    return "" if value is None else str(value)


def test_invocations_accepts_json_and_csv(client, records, module_settings):
    api, _ = client
    record = records[0]
    features = module_settings.contract.features
    as_json = api.post("/invocations", json={"instances": [record]})
    assert as_json.status_code == 200
    header = ",".join(f'"{name}"' for name in features)
    row = ",".join(_csv_value(record[name]) for name in features)
    with_header = api.post(
        "/invocations", content=f"{header}\n{row}\n", headers={"content-type": "text/csv"}
    )
    without_header = api.post(
        "/invocations", content=f"{row}\n{row}\n", headers={"content-type": "text/csv"}
    )
    assert with_header.status_code == without_header.status_code == 200, with_header.text
    assert len(without_header.json()["predictions"]) == 2
    assert _answers(with_header.json()) == _answers(as_json.json())


def test_invocations_reads_a_csv_whose_first_line_is_the_dataset_header(
    client, module_settings, sample
):
    api, _ = client
    contract = module_settings.contract
    rows = sample.head(2)  # whole dataset rows: id, sensitive and target columns too
    as_json = api.post("/invocations", json={"instances": json_records(rows, contract)})
    assert as_json.status_code == 200, as_json.text
    for text in (rows.to_csv(index=False), "\ufeff" + rows.to_csv(index=False)):  # Excel's BOM
        response = api.post("/invocations", content=text, headers={"content-type": "text/csv"})
        assert response.status_code == 200, response.text
        assert _answers(response.json()) == _answers(as_json.json())
    reordered = rows[list(reversed(rows.columns))].to_csv(index=False)
    response = api.post("/invocations", content=reordered, headers={"content-type": "text/csv"})
    assert _answers(response.json()) == _answers(as_json.json())


def test_invocations_rejects_bad_payloads(client, records):
    api, log = client
    cases = [
        (b"{oops", "application/json", "malformed JSON"),
        (b'{"instances": []}', "application/json", "the batch is empty"),
        (b"1\n", "text/csv", "CSV row 1 has 1 values"),
        (b"<xml/>", "application/xml", "unsupported content type"),
        (json.dumps({"instances": records[:6]}).encode(), "application/json", "the limit is 5"),
    ]
    for content, content_type, message in cases:
        response = api.post("/invocations", content=content, headers={"content-type": content_type})
        assert response.status_code == 422
        assert message in json.dumps(response.json())
    assert read_log(api, log) == []


def test_not_ready_when_the_model_cannot_load(module_settings, tmp_path, records):
    def failing(_settings, _serving):
        raise RuntimeError("registry unreachable")

    app = create_app(module_settings, ServingSettings(prediction_log=None), loader=failing)
    with TestClient(app) as api:
        assert api.get("/health").status_code == 200
        ready = api.get("/ready")
        assert ready.status_code == 503
        assert "registry unreachable" in ready.json()["reason"]
        assert api.get("/ping").status_code == 503
        assert api.post("/predict", json={"records": records[:1]}).status_code == 503


class ConstantModel:
    """Answers instantly: routing tests need many requests, not real scores."""

    classes_ = np.array([0, 1])

    def predict(self, features):
        return np.full(len(features), 1.0)

    def predict_proba(self, features):
        return np.tile([0.5, 0.5], (len(features), 1))


def test_canary_routes_about_the_configured_share_to_the_challenger(
    module_settings, tmp_path, records
):
    api, log = make_client(module_settings, ConstantModel(), tmp_path, canary_fraction=0.3)
    with api:
        api.app.state.serving.random.seed(0)
        models = [
            api.post("/predict", json={"records": records[:1]}).json()["model"] for _ in range(400)
        ]
        entries = read_log(api, log)
    share = models.count("challenger") / len(models)
    assert 0.22 < share < 0.38  # 0.3 +- 3.5 standard deviations for n=400
    assert {e["model"] for e in entries} == {"champion", "challenger"}
    assert not any(e["shadow"] for e in entries)


def test_a_challenger_that_failed_the_gate_gets_no_canary_traffic_unless_allowed(
    module_settings, tmp_path, records
):
    api, _ = make_client(
        module_settings, ConstantModel(), tmp_path, canary_fraction=0.5, challenger_passed=False
    )
    with api:
        models = {
            api.post("/predict", json={"records": records[:1]}).json()["model"] for _ in range(40)
        }
        meta = api.get("/metadata").json()
    assert models == {"champion"}
    assert meta["canary_fraction"] == 0 and "CANARY_ALLOW_FAILED" in meta["canary_disabled"]
    allowed, _ = make_client(
        module_settings,
        ConstantModel(),
        tmp_path,
        canary_fraction=0.5,
        challenger_passed=False,
        canary_allow_failed=True,
    )
    with allowed:
        models = {
            allowed.post("/predict", json={"records": records[:1]}).json()["model"]
            for _ in range(40)
        }
    assert models == {"champion", "challenger"}


def test_shadow_scores_every_request_with_the_challenger_silently(
    module_settings, fitted, tmp_path, records
):
    api, log = make_client(module_settings, fitted, tmp_path, shadow=True)
    with api:
        bodies = [api.post("/predict", json={"records": records[:1]}).json() for _ in range(5)]
        entries = read_log(api, log)
    assert {body["model"] for body in bodies} == {"champion"}
    shadow = [e for e in entries if e["shadow"]]
    assert len(shadow) == 5
    assert {e["model"] for e in shadow} == {"challenger"}


def test_concurrent_requests_are_scored_together_with_the_right_slices():
    import asyncio

    from mlplate_runtime.serving.batching import MicroBatcher

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

    from mlplate_runtime.serving.batching import MicroBatcher

    def broken(records):
        raise ValueError("model exploded")

    async def scenario():
        batcher = MicroBatcher(broken)
        return await asyncio.gather(
            *(batcher.score([{"x": 1}]) for _ in range(3)), return_exceptions=True
        )

    assert all(isinstance(result, ValueError) for result in asyncio.run(scenario()))


def feature_of_type(settings, kind):
    """The name of a feature column of this type in the contract, if there is one."""
    return next(
        (
            name
            for name, spec in settings.contract.columns.items()
            if spec.role == "feature" and spec.type == kind and name != settings.contract.target
        ),
        None,
    )


def test_one_bad_request_fails_alone_in_a_shared_batch():
    """Concurrent requests share a scoring call; the bad one fails, its neighbours do not."""
    import asyncio

    from mlplate_runtime.serving.batching import MicroBatcher

    def score(records):
        if any(record.get("bad") for record in records):
            raise ValueError("cannot score a bad record")
        return np.array([float(record["n"]) for record in records])

    sizes: list[int] = []

    async def traffic():
        batcher = MicroBatcher(score, on_batch=sizes.append)
        requests = [batcher.score([{"n": n, "bad": n == 3}]) for n in range(8)]
        return await asyncio.gather(*requests, return_exceptions=True)

    results = asyncio.run(traffic())
    assert sizes == [8] + [1] * 8  # batched together, then each scored alone to find the bad one
    assert isinstance(results[3], ValueError)
    assert [float(result[0]) for n, result in enumerate(results) if n != 3] == [
        0.0, 1.0, 2.0, 4.0, 5.0, 6.0, 7.0,
    ]  # fmt: skip


class Exploding:
    """A model that cannot score anything (as scikit-learn does with values it cannot use)."""

    def predict_proba(self, features):
        raise ValueError("Input X contains infinity or a value too large for dtype('float64')")

    predict = predict_proba


def test_a_record_the_model_cannot_score_is_a_422_not_a_500(module_settings, tmp_path, records):
    serving = ServingSettings(prediction_log=tmp_path / "log.jsonl")

    def loader(_settings, _serving):
        return loaded(module_settings, "champion", Exploding(), version="1"), None

    with TestClient(create_app(module_settings, serving, loader=loader)) as api:
        response = api.post("/predict", json={"records": records[:2]})
        assert response.status_code == 422
        assert "these records cannot be scored: Input X contains infinity" in response.text


def test_extreme_and_non_finite_values_are_never_a_500(client, module_settings, records):
    api, _ = client
    numeric = feature_of_type(module_settings, "numeric")
    if numeric is None:
        pytest.skip("the contract has no numeric feature")
    for extreme in (1e308, -1e308, 5e-324):
        response = api.post(
            "/predict", json={"records": [records[1], {**records[0], numeric: extreme}]}
        )
        assert response.status_code in (200, 422), response.text
    infinite = '{"records": [' + json.dumps(records[0])[:-1] + f', "{numeric}": Infinity}}]}}'
    response = api.post("/predict", content=infinite, headers={"content-type": "application/json"})
    assert response.status_code == 422
    csv_body = (
        ",".join(module_settings.contract.features)
        + "\n"
        + ",".join("inf" if name == numeric else "" for name in module_settings.contract.features)
    )
    response = api.post("/invocations", content=csv_body, headers={"content-type": "text/csv"})
    assert response.status_code == 422


def test_integer_fields_are_strict(client, module_settings, records):
    api, _ = client
    integer = feature_of_type(module_settings, "integer")
    if integer is None:
        pytest.skip("the contract has no integer feature")
    for wrong in ("42", True, 40.5):
        response = api.post("/predict", json={"records": [{**records[0], integer: wrong}]})
        assert response.status_code == 422, wrong
        assert response.json()["detail"][0]["loc"][-1] == integer


def test_deeply_nested_json_is_a_client_error(client):
    api, _ = client
    deep = "[" * 100_000 + "]" * 100_000
    for route in ("/predict", "/invocations"):
        response = api.post(route, content=deep, headers={"content-type": "application/json"})
        assert 400 <= response.status_code < 500, (route, response.text)


def test_bodies_over_the_size_limit_are_refused_before_parsing(
    module_settings, fitted, tmp_path, records
):
    test_client, _ = make_client(module_settings, fitted, tmp_path, max_request_bytes=2_000)
    with test_client as api:
        body = json.dumps({"records": records[:1] * 40}).encode()
        assert len(body) > 2_000
        response = api.post("/predict", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 413
        assert "MAX_REQUEST_BYTES" in response.json()["detail"]

        def chunks():  # no Content-Length: the limit counts what arrives
            for start in range(0, len(body), 500):
                yield body[start : start + 500]

        streamed = api.post(
            "/invocations", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413
        small = api.post("/predict", json={"records": records[:1]})
        assert small.status_code == 200
        assert api.get("/health").status_code == 200


def test_the_app_becomes_ready_when_the_registry_comes_back(module_settings, fitted, tmp_path):
    import time

    attempts = []

    def loader(_settings, _serving):
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise FileNotFoundError("the MLflow store mlflow.db does not exist yet")
        return loaded(module_settings, "champion", fitted, version="1"), None

    serving = ServingSettings(prediction_log=tmp_path / "log.jsonl", load_retry_seconds=0.05)
    with TestClient(create_app(module_settings, serving, loader=loader)) as api:
        first = api.get("/ready")
        assert first.status_code == 503 and "does not exist yet" in first.json()["reason"]
        deadline = time.monotonic() + 10
        while api.get("/ready").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert api.get("/ready").status_code == 200
    assert len(attempts) == 3


def test_a_missing_store_is_never_created(settings, tmp_path):
    from mlplate_runtime.models.loaded import load_model

    store = tmp_path / "nowhere" / "mlflow.db"
    missing = settings.model_copy(update={"tracking_uri": f"sqlite:///{store}"})
    with pytest.raises(FileNotFoundError, match="does not exist yet"):
        load_model(missing, role="champion", uri=None)
    assert not store.exists() and not store.parent.exists()


def test_serve_runs_the_app_on_sagemakers_port(monkeypatch):
    import uvicorn

    from mlplate_runtime.serving import server

    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(app=app, **options))
    monkeypatch.delenv("PORT", raising=False)
    server.main()
    assert started["app"].endswith("serving.app:create_app") and started["factory"] is True
    assert (started["host"], started["port"]) == ("0.0.0.0", 8080)


def test_ready_reports_a_degraded_prediction_log(module_settings, fitted, records):
    serving = ServingSettings(prediction_log=Path("/dev/full"))  # every write fails

    def loader(_settings, _serving):
        return loaded(module_settings, "champion", fitted, version="1"), None

    with TestClient(create_app(module_settings, serving, loader=loader)) as api:
        assert api.post("/predict", json={"records": records[:2]}).status_code == 200
        api.app.state.serving.logger.flush()
        ready = api.get("/ready")
        assert ready.status_code == 200  # answering still works; the log is reported degraded
        log = ready.json()["prediction_log"]
        assert (log["status"], log["dropped"], log["written"]) == ("degraded", 2, 0)


def scrape(api) -> dict[tuple[str, frozenset], float]:
    """Every sample /metrics exposes, by name and labels (parsed as Prometheus would)."""
    from prometheus_client.parser import text_string_to_metric_families

    response = api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_count_requests_batches_answers_and_the_log(client, records, module_settings):
    api, _ = client
    for _ in range(2):
        assert api.post("/predict", json={"records": records[:3]}).status_code == 200
    assert api.post("/predict", json={"records": []}).status_code == 422
    assert api.get("/no-such-route").status_code == 404
    api.app.state.serving.logger.flush()
    samples = scrape(api)

    def value(name: str, **labels: str) -> float:
        return samples.get((name, frozenset(labels.items())), 0.0)

    assert value("http_requests_total", route="/predict", method="POST", status="200") == 2
    assert value("http_requests_total", route="/predict", method="POST", status="422") == 1
    assert value("http_requests_total", route="other", method="GET", status="404") == 1
    assert value("http_request_duration_seconds_count", route="/predict") == 3
    assert value("model_batch_records_count", model="champion") == 2
    assert value("model_batch_records_sum", model="champion") == 6
    assert value("model_info", role="champion", version="3") == 1
    assert value("canary_fraction") == 0
    assert value("prediction_log_written_total") == 6
    assert value("prediction_log_dropped_total") == 0
    if module_settings.contract.task == "regression":
        assert value("prediction_value_count", model="champion") == 6
    else:
        by_label = {
            dict(labels)["label"]: count
            for (name, labels), count in samples.items()
            if name == "predictions_total"
        }
        assert set(by_label) <= {str(c) for c in module_settings.contract.classes}
        assert sum(by_label.values()) == 6
        assert value("prediction_probability_count", model="champion") == 6
        assert value("prediction_probability_bucket", model="champion", le="+Inf") == 6


def test_metrics_show_the_canary_and_both_model_versions(module_settings, fitted, tmp_path):
    api, _ = make_client(module_settings, fitted, tmp_path, canary_fraction=0.25)
    with api:
        samples = scrape(api)
    assert samples[("model_info", frozenset({"role": "champion", "version": "3"}.items()))] == 1
    assert samples[("model_info", frozenset({"role": "challenger", "version": "4"}.items()))] == 1
    assert samples[("canary_fraction", frozenset())] == 0.25


def test_sigterm_writes_every_answered_prediction_before_the_server_exits(
    module_settings, fitted, records, tmp_path
):
    """A real `serve` process: stopped with SIGTERM, it has logged every record it answered."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx
    import mlflow.sklearn

    from mlplate_runtime.models.train import trusted_types

    model_dir = tmp_path / "model"
    mlflow.sklearn.save_model(
        fitted, model_dir, serialization_format="skops", skops_trusted_types=trusted_types(fitted)
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "predictions.jsonl"
    env = {
        **os.environ,
        "MODEL_URI": str(model_dir),
        "PREDICTION_LOG": str(log),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'unused.db'}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    # A slow disk (50 ms a write) keeps the log writer behind the answers when SIGTERM comes.
    command = """
import time
from mlplate_runtime.serving import prediction_log, server
append = prediction_log.PredictionLogger._append
def slow(self, *args):
    time.sleep(0.05)
    return append(self, *args)
prediction_log.PredictionLogger._append = slow
server.main()
"""
    server = subprocess.Popen(
        [sys.executable, "-c", command],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    batch = (records * 3)[:1000]
    answered = 0
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if http.get("/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "the server did not become ready"
                time.sleep(0.2)
            for _ in range(20):
                response = http.post("/predict", json={"records": batch})
                assert response.status_code == 200
                answered += len(response.json()["predictions"])
        server.send_signal(signal.SIGTERM)  # at once: the writer is still behind
        # uvicorn shuts down gracefully, then re-raises the signal it caught
        assert server.wait(timeout=60) in (0, -signal.SIGTERM)
        assert b"Finished server process" in server.stderr.read()
    finally:
        if server.poll() is None:
            server.kill()
        server.stderr.close()
    assert answered == 20 * len(batch)
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(entries) == answered
    assert len({entry["record_id"] for entry in entries}) == answered


def test_prediction_log_off_logs_nothing_and_says_so(module_settings, fitted, records, monkeypatch):
    from mlplate_runtime.config import load_serving_settings

    monkeypatch.setenv("PREDICTION_LOG", "off")
    serving = load_serving_settings(module_settings)
    assert serving.prediction_log is None

    def loader(_settings, _serving):
        return loaded(module_settings, "champion", fitted, version="1"), None

    with TestClient(create_app(module_settings, serving, loader=loader)) as api:
        assert api.post("/predict", json={"records": records[:2]}).status_code == 200
        assert api.get("/ready").json()["prediction_log"]["status"] == "off"
        assert scrape(api)[("prediction_log_written_total", frozenset())] == 0
    assert not module_settings.path(module_settings.params.monitoring.prediction_log).exists()


def test_a_client_that_leaves_mid_body_is_no_server_error(client):
    """/invocations with the connection gone half way through the body: nobody to answer, no
    exception out of the app, and /metrics counts a 499 (client closed), not a 500."""
    import anyio

    test_client, _ = client
    app = test_client.app
    messages = iter(
        [
            {"type": "http.request", "body": b'{"instances": [{"a"', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/invocations",
        "raw_path": b"/invocations",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    anyio.run(app, scope, receive, send)  # no exception escapes the app
    metrics = test_client.get("/metrics").text
    counted = [line for line in metrics.splitlines() if 'route="/invocations"' in line]
    assert any('status="499"' in line for line in counted), counted
    assert not any('status="500"' in line for line in counted), counted


def test_a_422_names_the_problems_without_echoing_a_large_body(client, records, monkeypatch):
    from mlplate_runtime.serving import requests

    test_client, _ = client
    huge = {**records[0], "notes": "x" * 300_000}
    answer = test_client.post("/predict", json={"records": [huge]})
    assert answer.status_code == 422 and len(answer.content) < 5_000
    assert "characters)" in answer.text
    monkeypatch.setattr(requests, "MAX_ERRORS_SHOWN", 2)
    bad = {field: "?" for field in records[0]}  # a problem in every field
    detail = test_client.post("/predict", json={"records": [bad]}).json()["detail"]
    assert len(detail) == 3 and detail[-1]["msg"].startswith("and ")
    assert detail[-1]["msg"].endswith("more problems")


@pytest.mark.parametrize("path", ["/predict", "/invocations"])
@pytest.mark.parametrize("depth", [1_500, 100_000])
def test_a_body_nested_too_deeply_is_the_same_422_on_both_routes(client, path, depth):
    test_client, _ = client
    body = '{"records": ' + "[" * depth + "]" * depth + "}"
    answer = test_client.post(path, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["msg"] == "the JSON is nested too deeply"


def test_values_unlike_training_are_scored_and_counted_but_declared_limits_refuse(
    module_settings, fitted, tmp_path, records
):
    contract = module_settings.contract
    number = next(
        n for n in contract.features if contract.columns[n].type in ("numeric", "integer")
    )
    category = next(n for n in contract.features if contract.columns[n].type == "categorical")
    record = next(r for r in records if r[number] is not None and r[category] is not None)
    seen = record[number]
    columns = {
        **contract.columns,  # training held values up to seen - 1; the team declared seen + 10
        number: contract.columns[number].model_copy(
            update={"min": None, "max": seen + 10, "observed_min": None, "observed_max": seen - 1}
        ),
        category: contract.columns[category].model_copy(update={"open": True}),
    }
    settings = module_settings.model_copy(
        update={"contract": contract.model_copy(update={"columns": columns})}
    )
    test_client, _ = make_client(settings, fitted, tmp_path)
    with test_client as api:
        unusual = [
            {**record, number: seen},  # above what training held: scored, counted
            {**record, number: seen - 1, category: "never-seen-before"},  # a new category
            {**record, number: seen - 1},
        ]
        answered = api.post("/predict", json={"records": unusual})
        assert answered.status_code == 200 and len(answered.json()["predictions"]) == 3
        beyond = api.post("/predict", json={"records": [{**record, number: seen + 11}]})
        assert beyond.status_code == 422 and beyond.json()["detail"][0]["loc"][-1] == number
        samples = scrape(api)
    assert (
        samples[("unusual_values_total", frozenset({"column": number, "kind": "range"}.items()))]
        == 1
    )
    assert (
        samples[
            ("unusual_values_total", frozenset({"column": category, "kind": "category"}.items()))
        ]
        == 1
    )


def test_a_reload_serves_the_version_the_alias_moved_to_and_keeps_serving_on_failure(
    module_settings, fitted, records
):
    registry = {"champion": "3"}  # where the alias points; the probe and the loader read it
    loads = []

    def loader(_settings, _serving):
        loads.append(registry["champion"])
        if registry["champion"] == "broken":
            raise OSError("artifact store unreachable")
        return loaded(module_settings, "champion", fitted, version=registry["champion"]), None

    def probe(_settings, _serving):
        if registry["champion"] == "unreachable":
            raise ConnectionError("registry unreachable")
        return dict(registry)

    serving = ServingSettings(prediction_log=None, reload_seconds=0)  # reloads called here
    app = create_app(module_settings, serving, loader=loader, probe=probe)
    state = app.state.serving
    with TestClient(app) as api:
        assert not state.reload(module_settings, loader, probe) and loads == ["3"]  # unmoved
        registry["champion"] = "2"  # a rollback: an older version
        assert state.reload(module_settings, loader, probe)
        assert api.get("/metadata").json()["champion"]["version"] == "2"
        assert api.post("/predict", json={"records": records[:1]}).json()["model_version"] == "2"
        serving_now = {
            dict(labels)["version"]
            for (name, labels), value in scrape(api).items()
            if name == "model_info" and value
        }
        assert serving_now == {"2"}
        for failure in ("unreachable", "broken"):
            registry["champion"] = failure
            assert not state.reload(module_settings, loader, probe)
            assert api.get("/ready").status_code == 200
            assert api.get("/metadata").json()["champion"]["version"] == "2"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("MODEL_RELOAD_SECONDS", "soon"), ("MAX_BATCH_SIZE", "1e3"), ("CANARY_FRACTION", "2")],
)
def test_a_bad_serving_setting_stops_serve_in_one_line(monkeypatch, variable, value):
    import uvicorn

    from mlplate_runtime.serving import server

    monkeypatch.setattr(uvicorn, "run", lambda *args, **options: pytest.fail("started anyway"))
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit) as stopped:
        server.main()
    message = str(stopped.value)
    assert message.startswith(f"error: {variable}={value!r}: ") and "\n" not in message
