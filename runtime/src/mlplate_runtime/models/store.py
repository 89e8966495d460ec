"""Save and load the pipeline's model file with skops: a model file is data, never code.

models/model.skops travels through the DVC remote. A pickle from there would run any code it
carries the moment it is loaded; skops refuses every type outside scikit-learn's safe set and
the two this project's models need, so a tampered file fails with one message instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlplate_runtime.errors import ProjectError

# What skops does not trust by default and this project's pipelines hold (checked by a test).
TRUSTED_TYPES = (
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)


def save_model(model: Any, path: Path) -> None:
    """Write ``model`` to ``path`` in the skops format."""
    import skops.io

    path.parent.mkdir(parents=True, exist_ok=True)
    skops.io.dump(model, path)


def load_model(path: Path) -> Any:
    """Load a model this project wrote; refuse anything else in one line."""
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
    unexpected = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unexpected:
        raise ProjectError(
            f"{path} holds types this project never writes ({', '.join(unexpected[:3])}); "
            "it was not made by `make repro`: retrain with `make repro`"
        )
    return skops.io.load(path, trusted=untrusted)
