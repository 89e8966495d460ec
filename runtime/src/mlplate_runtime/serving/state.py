"""What the routes share: the loaded models, the batchers, the prediction log and the metrics."""

from __future__ import annotations

import gc
import logging
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

from mlplate_runtime.config import ServingSettings, Settings
from mlplate_runtime.models.loaded import LoadedModel
from mlplate_runtime.redact import redact
from mlplate_runtime.serving.batching import MicroBatcher
from mlplate_runtime.serving.metrics import ServingMetrics
from mlplate_runtime.serving.prediction_log import PredictionLogger

log = logging.getLogger(__name__)
Loader = Callable[[Settings, ServingSettings], tuple[LoadedModel, LoadedModel | None]]
# Where the aliases the app serves by point now: {"champion": "7"} (see serving.models).
Probe = Callable[[Settings, ServingSettings], dict[str, str]]


class ServingState:
    """The models (champion, optional challenger), how traffic is split, and what is logged."""

    def __init__(self, serving: ServingSettings, *, classification: bool) -> None:
        self.serving = serving
        self.champion: LoadedModel | None = None
        self.challenger: LoadedModel | None = None
        self.not_ready_reason = "model not loaded yet"
        self.logger = PredictionLogger(serving.prediction_log)
        self.metrics = ServingMetrics(self.logger, classification=classification)
        self.random = random.Random()  # noqa: S311 (traffic splitting, not security)
        # Per role, the model a batcher scores with and the batcher: a reload brings new models.
        self.batchers: dict[str, tuple[LoadedModel, MicroBatcher]] = {}
        self.canary_disabled: str | None = None

    def load(self, settings: Settings, loader: Loader) -> None:
        """Load the models; any failure leaves the app alive and not ready (with the reason)."""
        try:
            champion, challenger = loader(settings, self.serving)
        except Exception as error:
            self.not_ready_reason = redact(
                f"cannot load the model: {type(error).__name__}: {error}"
            )
            log.warning("not ready: %s (retrying)", self.not_ready_reason)
            return
        self._serve(champion, challenger)

    def reload(self, settings: Settings, loader: Loader, probe: Probe) -> bool:
        """Load the models again if an alias they came from points to another version now:
        a newer one (a promotion) or an older one (a rollback). On any failure the models
        being served stay. True when new models were loaded."""
        try:
            now = probe(settings, self.serving)
        except Exception as error:
            log.warning(
                "cannot ask the registry where the aliases point (%s); serving what was loaded",
                redact(f"{type(error).__name__}: {error}"),
            )
            return False
        served = {model.role: model.version for model in (self.champion, self.challenger) if model}
        moved = {role: version for role, version in now.items() if served.get(role) != version}
        if not moved:
            return False
        for role, version in moved.items():
            log.info(
                "the %s alias moved from version %s to %s: loading it",
                role,
                served.get(role),
                version,
                extra={"role": role, "version": version, "from_version": served.get(role)},
            )
        try:
            champion, challenger = loader(settings, self.serving)
        except Exception as error:
            log.warning(
                "cannot load the moved model (%s); serving what was loaded, retrying later",
                redact(f"{type(error).__name__}: {error}"),
            )
            return False
        self._serve(champion, challenger)
        return True

    def _serve(self, champion: LoadedModel, challenger: LoadedModel | None) -> None:
        """Answer with these models from now on."""
        for model in (champion, challenger):
            if model is not None and not model.prepare_direct():
                log.info(
                    "the %s scores records through pandas (its pipeline is not the runtime's "
                    "own shape: derived features, dates or a pipeline of the project's)",
                    model.role,
                )
        gc.unfreeze()  # the models being replaced were frozen below: let the collector free them
        self.champion, self.challenger = champion, challenger
        self.batchers = {}
        # The model's objects live as long as the process: keep them out of the garbage
        # collector's full passes, which otherwise stall requests for hundreds of ms.
        gc.collect()
        gc.freeze()
        self.canary_disabled = None
        if (
            challenger is not None
            and challenger.gate_passed is False
            and self.serving.canary_fraction > 0
            and not self.serving.canary_allow_failed
        ):
            self.canary_disabled = (
                f"challenger version {challenger.version} failed the promotion gate "
                f"({challenger.gate_reason}); set CANARY_ALLOW_FAILED=1 to send it traffic anyway"
            )
        self.metrics.models.clear()  # model_info names only the versions serving now
        for model in (champion, challenger):
            if model is not None:
                self.metrics.serving(model.role, model.version)
                log.info(
                    "serving the %s, version %s",
                    model.role,
                    model.version,
                    extra={"role": model.role, "version": model.version},
                )
        if self.canary_disabled:
            log.warning("canary disabled: %s", self.canary_disabled)
        self.metrics.canary.set(self.canary_fraction)

    @property
    def canary_fraction(self) -> float:
        """The share of requests the challenger answers (0 when its canary is disabled)."""
        return 0.0 if self.canary_disabled else self.serving.canary_fraction

    def batcher(self, model: LoadedModel) -> MicroBatcher:
        """The batching queue of one model (created on first use, inside the event loop)."""
        batchers = self.batchers  # read once: a reload replaces the dict from another thread
        entry = batchers.get(model.role)
        if entry is None or entry[0] is not model:
            observe = self.metrics.batch_records.labels(model.role).observe
            entry = batchers[model.role] = (model, MicroBatcher(model.score, on_batch=observe))
        return entry[1]

    async def predict(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Score with the champion (or the challenger for the canary share) and log it."""
        if self.champion is None:
            raise RuntimeError("predict() before a model is loaded (the routes check readiness)")
        request_id = uuid.uuid4().hex
        answering = self.champion
        if self.challenger is not None and self.random.random() < self.canary_fraction:
            answering = self.challenger
        scores = await self.batcher(answering).score(records)
        now = time.time()
        answers = answering.task.answers(scores)
        self.metrics.observe_answers(answering.role, answers, answering.task.signal(scores))
        self._log(request_id, records, answering, answers, scores, now, shadow=False)
        if self.serving.shadow and self.challenger is not None and answering is self.champion:
            await self._shadow(self.challenger, request_id, records, now)
        return {
            "request_id": request_id,
            "model": answering.role,
            "model_version": answering.version,
            "predictions": [
                {"record_id": f"{request_id}-{index}", **answer}
                for index, answer in enumerate(answers)
            ],
        }

    async def _shadow(
        self, challenger: LoadedModel, request_id: str, records: list[dict[str, Any]], now: float
    ) -> None:
        """Score with the challenger and log it; the caller only sees the champion's answer."""
        try:
            scores = await self.batcher(challenger).score(records)
        except Exception:  # a failing shadow model must never fail the request
            log.warning(
                "the shadow model failed on request %s",
                request_id,
                exc_info=True,
                extra={"request_id": request_id},
            )
            return
        answers = challenger.task.answers(scores)
        self._log(request_id, records, challenger, answers, scores, now, shadow=True)

    def _log(self, request_id, records, model, answers, scores, now, *, shadow: bool) -> None:
        """One prediction-log line per record: the inputs, the answer, the raw scores."""
        if not self.logger.enabled:
            return
        self.logger.log(
            [
                {
                    "timestamp": now,
                    "request_id": request_id,
                    "record_id": f"{request_id}-{index}",
                    "model": model.role,
                    "model_version": model.version,
                    "shadow": shadow,
                    "features": record,
                    "prediction": answer.get("label", answer.get("prediction")),
                    "scores": [round(float(value), 6) for value in np.atleast_1d(row)],
                }
                for index, (record, answer, row) in enumerate(
                    zip(records, answers, scores, strict=True)
                )
            ]
        )
