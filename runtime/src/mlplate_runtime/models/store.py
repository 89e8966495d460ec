"""Save and load the pipeline's model file with skops: a model file is data, never code.

models/model.skops travels through the DVC remote. A pickle from there would run any code it
carries the moment it is loaded; skops refuses every type outside scikit-learn's safe set.
The types trusted beyond that set are computed, not listed: exactly those of the model the
project's pipeline builds now (its model.py and params.yaml), fitted on a small sample made
from the data contract. A file holding anything else fails with one message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlplate_runtime.config import Settings
from mlplate_runtime.errors import ProjectError

SAMPLE_ROWS = 60  # enough rows for every class of a contract to be fitted


def trusted_types(model: Any) -> list[str]:
    """The types skops must be told to trust to load ``model`` (we built it)."""
    import skops.io

    return sorted(skops.io.get_untrusted_types(data=skops.io.dumps(model)))


_EXPECTED: dict[str, frozenset[str]] = {}  # per model section and contract: fitting costs ~0.2 s


def _fitted_types(settings: Settings) -> frozenset[str]:
    from mlplate_runtime.data.synthetic import synthetic_frame
    from mlplate_runtime.features.build import feature_matrix
    from mlplate_runtime.models.tasks import task_for
    from mlplate_runtime.models.train import fit_model

    contract = settings.contract
    frame = synthetic_frame(contract, SAMPLE_ROWS, seed=0)
    labels = task_for(settings).labels(frame[contract.target])
    model = fit_model(settings, feature_matrix(frame, contract), labels)
    return frozenset(trusted_types(model))


def expected_types(settings: Settings) -> frozenset[str]:
    """The types of the model the project's pipeline builds now (model.py, params, contract)."""
    key = json.dumps(
        [settings.params.model.as_dict(), settings.contract.model_dump(mode="json")],
        sort_keys=True,
        default=str,
    )
    if key not in _EXPECTED:
        _EXPECTED[key] = _fitted_types(settings)
    return _EXPECTED[key]


def save_model(model: Any, path: Path) -> None:
    """Write ``model`` to ``path`` in the skops format."""
    import skops.io

    path.parent.mkdir(parents=True, exist_ok=True)
    skops.io.dump(model, path)


def load_model(path: Path, settings: Settings) -> Any:
    """Load a model this project's pipeline wrote; refuse anything else in one line."""
    import skops.io

    if not path.exists():
        raise ProjectError(f"{path} does not exist; run `make repro` (or `make pull`)")
    try:
        untrusted = skops.io.get_untrusted_types(file=path)
    except Exception as error:  # not a skops archive: a pickle, a truncated file, ...
        raise ProjectError(
            f"{path} is not a model file this project wrote ({type(error).__name__}); "
            "retrain it with `make repro`"
        ) from None
    unexpected = sorted(set(untrusted) - expected_types(settings))
    if unexpected:
        raise ProjectError(
            f"{path} holds types the project's model (model.py with params.yaml's model "
            f"section) does not build ({', '.join(unexpected[:3])}): it was trained with "
            "other model code or parameters, or it is not this project's model; retrain it "
            "with `make repro`"
        )
    return skops.io.load(path, trusted=untrusted)
