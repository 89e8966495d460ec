"""Where the runtime's tests find the project they run against.

tests/projects/ holds the configuration of three projects as mlplate generates them
(classification, regression, and one with a Feast feature store); MLPLATE_TEST_PROJECT picks one
(classification by default). CI runs the suite against each.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECTS = Path(__file__).parent / "projects"
PROJECT_NAME = os.environ.get("MLPLATE_TEST_PROJECT", "classification")
PROJECT_ROOT = PROJECTS / PROJECT_NAME


def with_slices(settings, slices, floors):
    """``settings`` with params.yaml's evaluate.slices and promotion.slice_floors replaced."""
    params = settings.params
    evaluate = params.evaluate.model_copy(update={"slices": slices})
    promotion = params.promotion.model_copy(update={"slice_floors": floors})
    return settings.model_copy(
        update={"params": params.model_copy(update={"evaluate": evaluate, "promotion": promotion})}
    )
