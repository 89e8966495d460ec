"""What the model predicts and how good it is, per task (pure functions of labels and scores).

The contract's `task` picks one of these at run time, so training, evaluation, the gate,
serving and monitoring are the same code for binary and multi-class classification and
for regression. Scores are probabilities (rows x classes) or predicted values (rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from mlplate_runtime.config import Settings
from mlplate_runtime.data.contract import category_text
from mlplate_runtime.errors import ProjectError


def _sample(n: int, max_points: int) -> np.ndarray:
    return (
        np.unique(np.linspace(0, n - 1, min(max_points, n)).astype(int)) if n else np.array([], int)
    )


@dataclass(frozen=True)
class Regression:
    """Predict a number; compare models on RMSE, MAE or R²."""

    name: ClassVar[str] = "regression"
    higher_is_better: ClassVar[dict[str, bool]] = {"rmse": False, "mae": False, "r2": True}
    # The default evaluate.secondary_metric, in order: the first that is not the primary.
    tie_breakers: ClassVar[tuple[str, ...]] = ("rmse", "mae")

    # The target's declared limits (data/contract.yaml min/max): predictions are clipped to them.
    low: float | None = None
    high: float | None = None

    def labels(self, values: pd.Series | np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=float)

    def unclipped(self, model: Any, features: pd.DataFrame) -> np.ndarray:
        """What the model predicts, before the target's declared limits apply."""
        return np.asarray(model.predict(features), dtype=float)

    def scores(self, model: Any, features: pd.DataFrame) -> np.ndarray:
        """Predictions inside the target's declared limits (a negative count is never served)."""
        raw = self.unclipped(model, features)
        if self.low is None and self.high is None:
            return raw
        return np.clip(raw, self.low, self.high)

    def metrics(self, y_true: np.ndarray, scores: np.ndarray) -> dict[str, float]:
        return {
            "rmse": float(np.sqrt(skm.mean_squared_error(y_true, scores))),
            "mae": float(skm.mean_absolute_error(y_true, scores)),
            "r2": float(skm.r2_score(y_true, scores)) if len(y_true) > 1 else float("nan"),
        }

    def answers(self, scores: np.ndarray) -> list[dict[str, Any]]:
        """What the API returns for each record."""
        return [{"prediction": round(float(value), 4)} for value in scores]

    def columns(self, scores: np.ndarray) -> dict[str, np.ndarray]:
        """What the API returns, as columns (batch inference writes these)."""
        return {"prediction": np.asarray(scores, dtype=float)}

    def signal(self, scores: np.ndarray) -> np.ndarray:
        """One number per row for the prediction-shift test: the prediction."""
        return np.asarray(scores, dtype=float)

    def baseline(self, target: np.ndarray) -> dict[str, Any]:
        """The constant a model must beat: the training target's mean."""
        return {"strategy": "mean", "value": float(np.mean(target))}

    def baseline_scores(self, baseline: dict[str, Any], rows: int) -> np.ndarray:
        return np.full(rows, float(baseline["value"]))

    def write_plots(self, y_true: np.ndarray, scores: np.ndarray, folder: Path) -> None:
        keep = _sample(len(y_true), 500)
        points = [
            {
                "predicted": round(float(scores[i]), 4),
                "residual": round(float(y_true[i] - scores[i]), 4),
            }
            for i in keep
        ]
        _write_json(folder / "residuals.json", points)
        figure, axes, plt = _figure((4.2, 3.2))
        axes.scatter(scores, y_true - scores, s=6, alpha=0.5)
        axes.axhline(0.0, color="black", linewidth=0.8)
        axes.set(xlabel="predicted", ylabel="actual - predicted", title="Residuals")
        _save(figure, plt, folder / "residuals.png")


@dataclass(frozen=True)
class Classification:
    """Predict a class with probabilities; binary cuts at ``threshold``, multi-class takes the top."""

    classes: tuple[Any, ...]
    threshold: float = 0.5
    name: ClassVar[str] = "classification"
    higher_is_better: ClassVar[dict[str, bool]] = {
        "roc_auc": True,
        "f1": True,
        "accuracy": True,
        "precision": True,
        "recall": True,
        "f1_macro": True,
        "balanced_accuracy": True,
        "log_loss": False,
    }
    # The default evaluate.secondary_metric, in order: the first that is not the primary.
    # Log loss keeps telling models apart when a ranking metric such as ROC AUC is at 1.0.
    tie_breakers: ClassVar[tuple[str, ...]] = ("log_loss", "roc_auc")

    @property
    def binary(self) -> bool:
        return len(self.classes) == 2

    def labels(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """Class positions (0..k-1) in contract order; -1 for a value that is no class."""
        text = category_text(pd.Series(values)).to_numpy(dtype=object)
        position = {str(label): index for index, label in enumerate(self.classes)}
        return np.array([position.get(str(value), -1) for value in text], dtype=int)

    def scores(self, model: Any, features: pd.DataFrame) -> np.ndarray:
        """Probabilities with one column per contract class (0 for classes the model never saw).

        Models are fitted on class positions, so ``model.classes_`` are column numbers.
        """
        proba = model.predict_proba(features)
        out = np.zeros((len(features), len(self.classes)))
        out[:, np.asarray(model.classes_, dtype=int)] = proba
        return out

    def predicted(self, scores: np.ndarray) -> np.ndarray:
        """Class positions: positive above the threshold (binary), else the most probable."""
        if self.binary:
            return (scores[:, 1] >= self.threshold).astype(int)
        return scores.argmax(axis=1)

    def metrics(self, y_true: np.ndarray, scores: np.ndarray) -> dict[str, float]:
        """ROC AUC (one-vs-rest for multi-class), and F1, precision, recall (macro for
        multi-class); macro F1, balanced accuracy and log loss for any number of classes."""
        y_pred = self.predicted(scores)
        average = "binary" if self.binary else "macro"
        present = np.unique(y_true)
        if len(present) < 2:
            roc_auc = float("nan")
        elif self.binary:
            roc_auc = float(skm.roc_auc_score(y_true, scores[:, 1]))
        else:
            columns = scores[:, present]
            columns = columns / np.clip(columns.sum(axis=1, keepdims=True), 1e-12, None)
            roc_auc = float(
                skm.roc_auc_score(
                    y_true, columns, multi_class="ovr", average="macro", labels=present
                )
                if len(present) > 2
                else skm.roc_auc_score(y_true == present[1], columns[:, 1])
            )
        # Multi-class averages run over the classes the rows hold or the model predicts: a class
        # absent from both (a slice, a small group) is no class the model got wrong.
        seen = sorted(
            set(np.unique(y_true[y_true >= 0]).tolist()) | set(np.unique(y_pred).tolist())
        )
        labels = seen if not self.binary else None
        return {
            "roc_auc": roc_auc,
            "f1": float(
                skm.f1_score(y_true, y_pred, average=average, labels=labels, zero_division=0)
            ),
            "accuracy": float(skm.accuracy_score(y_true, y_pred)),
            "precision": float(
                skm.precision_score(y_true, y_pred, average=average, labels=labels, zero_division=0)
            ),
            "recall": float(
                skm.recall_score(y_true, y_pred, average=average, labels=labels, zero_division=0)
            ),
            "f1_macro": float(
                skm.f1_score(y_true, y_pred, average="macro", labels=seen, zero_division=0)
            ),
            # The mean recall of the classes present: sklearn's balanced_accuracy_score, without
            # its warning for a class predicted but absent (common in small per-group slices).
            "balanced_accuracy": float(
                skm.recall_score(y_true, y_pred, average="macro", labels=present, zero_division=0)
            ),
            "log_loss": _log_loss(y_true, scores),
        }

    def per_class(self, y_true: np.ndarray, scores: np.ndarray) -> dict[str, dict[str, float]]:
        """Precision, recall, F1 and support (holdout rows) of each class, by class name."""
        every = list(range(len(self.classes)))
        precision, recall, f1, support = skm.precision_recall_fscore_support(
            y_true, self.predicted(scores), labels=every, zero_division=0
        )
        return {
            str(label): {
                "precision": float(precision[index]),
                "recall": float(recall[index]),
                "f1": float(f1[index]),
                "support": int(support[index]),
            }
            for index, label in enumerate(self.classes)
        }

    def answers(self, scores: np.ndarray) -> list[dict[str, Any]]:
        """The class and every class's probability, per record."""
        predicted = self.predicted(scores)
        names = [str(label) for label in self.classes]
        return [
            {
                "label": _plain(self.classes[index]),
                "probability": round(float(row[index]), 6),
                "probabilities": {
                    name: round(float(p), 6) for name, p in zip(names, row, strict=True)
                },
            }
            for index, row in zip(predicted, scores, strict=True)
        ]

    def columns(self, scores: np.ndarray) -> dict[str, np.ndarray]:
        """What the API returns, as columns: the label (as text), its probability, and each
        class's probability in ``probability_<class>``."""
        predicted = self.predicted(scores)
        names = [str(label) for label in self.classes]
        out = {
            "prediction": np.asarray(names, dtype=object)[predicted],
            "probability": scores[np.arange(len(scores)), predicted],
        }
        out |= {f"probability_{name}": scores[:, index] for index, name in enumerate(names)}
        return out

    def signal(self, scores: np.ndarray) -> np.ndarray:
        """Binary: the positive class's probability; multi-class: the top probability."""
        return scores[:, 1] if self.binary else scores.max(axis=1)

    def baseline(self, target: np.ndarray) -> dict[str, Any]:
        """The constant a model must beat: the training classes' prior (every row scored with
        the share of each class; it predicts the majority class)."""
        counts = np.bincount(target[target >= 0], minlength=len(self.classes)).astype(float)
        return {"strategy": "prior", "prior": (counts / max(counts.sum(), 1.0)).tolist()}

    def baseline_scores(self, baseline: dict[str, Any], rows: int) -> np.ndarray:
        return np.tile(np.asarray(baseline["prior"], dtype=float), (rows, 1))

    def write_plots(self, y_true: np.ndarray, scores: np.ndarray, folder: Path) -> None:
        y_pred = self.predicted(scores)
        names = [str(label) for label in self.classes]
        roc = []
        for index, name in enumerate(
            names[1:] if self.binary else names, start=1 if self.binary else 0
        ):
            if len(np.unique(y_true == index)) == 2:
                fpr, tpr, _ = skm.roc_curve(y_true == index, scores[:, index])
                roc += [
                    {"class": name, "fpr": round(float(fpr[i]), 5), "tpr": round(float(tpr[i]), 5)}
                    for i in _sample(len(fpr), 200)
                ]
        _write_json(folder / "roc.json", roc)
        _write_json(
            folder / "confusion.json",
            [
                {"actual": names[a], "predicted": names[p]}
                for a, p in zip(y_true, y_pred, strict=True)
            ],
        )
        counts = skm.confusion_matrix(y_true, y_pred, labels=list(range(len(names))))
        size = 2.4 + 0.45 * len(names)
        figure, axes, plt = _figure((size + 0.4, size))
        axes.imshow(counts, cmap="Blues")
        for (row, col), count in np.ndenumerate(counts):
            colour = "white" if count > counts.max() / 2 else "black"
            axes.text(col, row, str(count), ha="center", va="center", color=colour)
        ticks = list(range(len(names)))
        axes.set(xticks=ticks, yticks=ticks, xticklabels=names, yticklabels=names)
        axes.set(xlabel="predicted", ylabel="actual", title="Confusion matrix")
        _save(figure, plt, folder / "confusion_matrix.png")


Task = Regression | Classification


def task_for(settings: Settings) -> Task:
    """The task the contract declares, with its classes and the evaluation threshold."""
    contract = settings.contract
    target = contract.columns[contract.target]
    task: Task = (
        Regression(low=target.min, high=target.max)
        if contract.task == "regression"
        else Classification(contract.classes, settings.params.evaluate.threshold)
    )
    evaluate = settings.params.evaluate
    for key, metric in (
        ("primary_metric", evaluate.primary_metric),
        ("secondary_metric", evaluate.secondary_metric),
    ):
        if metric is not None and metric not in task.higher_is_better:
            raise ProjectError(
                f"params.yaml evaluate.{key} is {metric!r}; for {contract.task} use one of "
                f"{', '.join(task.higher_is_better)}"
            )
    if evaluate.secondary_metric == evaluate.primary_metric:
        raise ProjectError(
            f"params.yaml evaluate.secondary_metric is the primary metric ({evaluate.primary_metric}"
            "): it breaks ties on the primary metric, so choose another or remove the line"
        )
    return task


def secondary_metric(settings: Settings, task: Task) -> str:
    """The metric that decides a tie on the primary one: params.yaml's, else the task's
    default (log loss for classification, RMSE for regression; the next when it is the
    primary)."""
    chosen = settings.params.evaluate.secondary_metric
    if chosen is not None:
        return chosen
    primary = settings.params.evaluate.primary_metric
    return next(metric for metric in task.tie_breakers if metric != primary)


def _log_loss(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Mean negative log probability of the true class, as sklearn's log_loss computes it, but
    also on scores rounded in the prediction log (rows then sum to nearly 1, which sklearn
    warns about) and skipping labels that are no class (feedback files may hold them)."""
    known = y_true >= 0
    if not known.any():
        return float("nan")
    rows = scores[known]
    rows = rows / np.clip(rows.sum(axis=1, keepdims=True), 1e-12, None)
    true_class = rows[np.arange(len(rows)), y_true[known]]
    return float(-np.mean(np.log(np.clip(true_class, np.finfo(float).eps, 1.0))))


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _write_json(path: Path, content: Any) -> None:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2) + "\n")


def _figure(size: tuple[float, float]) -> tuple[Any, Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=size, dpi=100)
    return figure, axes, plt


def _save(figure: Any, plt: Any, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
