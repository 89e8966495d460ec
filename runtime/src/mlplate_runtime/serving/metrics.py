"""Prometheus metrics of the API, served as text at /metrics.

Traffic and latency by route and status, records per scoring call, input values outside what
training data held (scored, but counted per column), the answers given
(label counts and probability histogram for classification, a summary of the predicted
value for regression), prediction-log writes and drops, and the model versions serving.
Each app has its own registry, so several apps in one process (tests) never collide.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Iterator
from typing import Any

import numpy as np
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Summary,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric

from mlplate_runtime.data.contract import Contract
from mlplate_runtime.serving.prediction_log import PredictionLogger

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
PROBABILITY_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class _PredictionLogCollector:
    """The prediction log's counters, read when Prometheus scrapes."""

    def __init__(self, logger: PredictionLogger) -> None:
        self.logger = logger

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "prediction_log_written", "Prediction-log entries written", value=self.logger.written
        )
        yield CounterMetricFamily(
            "prediction_log_dropped",
            "Prediction-log entries dropped (queue full or write failed)",
            value=self.logger.dropped,
        )


class ServingMetrics:
    """Every metric the app exposes, in one registry."""

    def __init__(self, logger: PredictionLogger, *, classification: bool) -> None:
        self.registry = registry = CollectorRegistry()
        self.classification = classification
        self.requests = Counter(
            "http_requests", "HTTP requests", ["route", "method", "status"], registry=registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer a request",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.batch_records = Histogram(
            "model_batch_records",
            "Records per model scoring call (dynamic batching)",
            ["model"],
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.models = Gauge(
            "model_info",
            "Model versions serving (1 per role)",
            ["role", "version"],
            registry=registry,
        )
        self.canary = Gauge(
            "canary_fraction", "Share of requests the challenger answers", registry=registry
        )
        if classification:
            self.labels = Counter(
                "predictions",
                "Records answered, by predicted label",
                ["model", "label"],
                registry=registry,
            )
            self.signal: Histogram | Summary = Histogram(
                "prediction_probability",
                "Positive-class (binary) or top (multi-class) probability of each answer",
                ["model"],
                buckets=PROBABILITY_BUCKETS,
                registry=registry,
            )
        else:
            self.signal = Summary(
                "prediction_value", "Predicted values (count and sum)", ["model"], registry=registry
            )
        registry.register(_PredictionLogCollector(logger))

    def observe_answers(self, role: str, answers: list[dict[str, Any]], signal: np.ndarray) -> None:
        """Count one request's answers."""
        if self.classification:
            for label, count in Tally(str(answer["label"]) for answer in answers).items():
                self.labels.labels(role, label).inc(count)
        observe = self.signal.labels(role).observe
        for value in signal.tolist():
            observe(value)

    def serving(self, role: str, version: str | None) -> None:
        """Record that ``role`` serves ``version``."""
        self.models.labels(role, version or "uri").set(1)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


class RequestMetrics:
    """ASGI middleware: count every request and time it, by route (unknown paths: "other")."""

    def __init__(self, app: Any, metrics: ServingMetrics, routes: frozenset[str]) -> None:
        self.app, self.metrics, self.routes = app, metrics, routes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500  # unless the app answers otherwise

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope["path"] if scope["path"] in self.routes else "other"
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - start)


class UnusualInputs:
    """Counts, per column, request values outside what training data held: beyond a column's
    observed range, or a category an open column has not seen. They are scored; this counter
    (``unusual_values_total``) is how operators see them."""

    def __init__(self, contract: Contract, registry: CollectorRegistry) -> None:
        self.counter = Counter(
            "unusual_values",
            "Request values outside what training data held (scored, not refused)",
            ["column", "kind"],
            registry=registry,
        )
        self.ranges = [
            (name, spec.observed_min, spec.observed_max)
            for name, spec in contract.columns.items()
            if spec.role == "feature" and (spec.observed_min, spec.observed_max) != (None, None)
        ]
        self.categories = [
            (name, frozenset(str(category) for category in spec.categories or ()))
            for name, spec in contract.columns.items()
            if spec.role == "feature" and spec.open
        ]

    def observe(self, records: list[dict[str, Any]]) -> None:
        """Count the unusual values of one request's validated records (a few comparisons each)."""
        for name, low, high in self.ranges:
            outside = sum(
                1
                for record in records
                if isinstance(value := record.get(name), (int, float))
                and ((low is not None and value < low) or (high is not None and value > high))
            )
            if outside:
                self.counter.labels(name, "range").inc(outside)
        for name, known in self.categories:
            unseen = sum(
                1
                for record in records
                if (value := record.get(name)) is not None and _category(value) not in known
            )
            if unseen:
                self.counter.labels(name, "category").inc(unseen)


def _category(value: Any) -> str:
    """A request value as the contract's category text (40.0 is the category 40)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
