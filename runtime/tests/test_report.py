"""The pull-request report: deltas, changed params, promotion decision, regression gate."""

from __future__ import annotations

import pytest

from mlplate_runtime.report import MARKER, render_report

PARAMS = {"model.hist_gradient_boosting.max_iter": {"old": 150, "new": 2, "diff": -148}}


def metrics(old: float | None, new: float) -> dict:
    diff = None if old is None else new - old
    return {
        "roc_auc": {"old": old, "new": new, "diff": diff},
        "f1": {"old": 0.5, "new": 0.5, "diff": 0.0},
    }


def render(metrics_diff, params_diff=PARAMS):
    return render_report(
        metrics_diff,
        params_diff,
        base="0123456789abcdef",
        primary="roc_auc",
        min_delta=0.002,
        max_regression=0.01,
    )


def test_a_large_regression_fails_the_gate():
    report = render(metrics(0.80, 0.70))
    assert report.regressed
    assert report.markdown.startswith(MARKER)
    assert "**Gate: failed**" in report.markdown
    assert "| **roc_auc** | 0.8000 | 0.7000 | -0.1000 |" in report.markdown
    assert "would stay challenger" in report.markdown


def test_an_improvement_passes_and_would_be_promoted():
    report = render(metrics(0.80, 0.83))
    assert not report.regressed
    assert "**Gate: passed**" in report.markdown
    assert "would be promoted to champion" in report.markdown
    assert "| `model.hist_gradient_boosting.max_iter` | 150 | 2 |" in report.markdown


def test_a_small_regression_within_the_threshold_passes():
    assert not render(metrics(0.80, 0.795)).regressed


def test_no_baseline_passes_and_says_so():
    report = render(metrics(None, 0.8), {})
    assert not report.regressed
    assert "no baseline" in report.markdown
    assert "No parameter changes." in report.markdown


@pytest.mark.parametrize("base", ["--upload-pack=touch /tmp/pwned", "-h", " "])
def test_a_base_that_looks_like_an_option_is_refused(tmp_path, base):
    from mlplate_runtime.errors import ProjectError
    from mlplate_runtime.report import merge_base

    with pytest.raises(ProjectError, match="is not a git ref; pass BASE=<branch or commit>"):
        merge_base(tmp_path, base)


def test_a_tie_in_the_report_goes_to_the_secondary_metric_as_in_the_gate():
    diff = {
        **metrics(1.0, 1.0),
        "log_loss": {"old": 0.0456, "new": 0.0333, "diff": -0.0123},
    }
    common = {"base": "0123456789abcdef", "primary": "roc_auc", "min_delta": 0.002}
    report = render_report(diff, {}, max_regression=0.01, secondary="log_loss", **common)
    assert "would be promoted to champion (roc_auc ties with the champion" in report.markdown
    assert "log_loss falls from 0.0456 to 0.0333 (better)" in report.markdown
    without = render_report(metrics(1.0, 1.0), {}, max_regression=0.01, **common)
    assert "would stay challenger (roc_auc stays the same (no better)" in without.markdown


def test_slices_and_top_inputs_are_reported_with_the_floors_missed():
    from mlplate_runtime.models.importance import ColumnImportance, Importance
    from mlplate_runtime.report import slice_changes

    slices_diff = {
        "slices.biscoe.n": {"old": 80, "new": 82, "diff": 2},
        "slices.biscoe.roc_auc": {"old": 0.9, "new": 0.75, "diff": -0.15},
        "slices.biscoe.f1": {"old": 0.5, "new": 0.5, "diff": 0.0},
        "slices.heavy.n": {"old": None, "new": 3},
        "slices.heavy.roc_auc": {"old": None, "new": None},
        "slices.gone.n": {"old": 10, "new": None},
    }
    changes = slice_changes(slices_diff, "roc_auc")
    assert [(c.name, c.n, c.old, c.new) for c in changes] == [
        ("biscoe", 82, 0.9, 0.75),
        ("heavy", 3, None, None),
    ]
    columns = tuple(ColumnImportance(f"c{i}", 0.1 / (i + 1), 0.0) for i in range(7))
    report = render_report(
        metrics(0.80, 0.83),
        PARAMS,
        base="0123456789abcdef",
        primary="roc_auc",
        min_delta=0.002,
        max_regression=0.01,
        slices=changes,
        slice_floors={"biscoe": 0.8},
        importance=Importance("roc_auc", 400, 5, columns),
    )
    text = report.markdown
    assert not report.regressed  # the floors decide promotion, not the CI regression gate
    assert "| biscoe | 82 | 0.9000 | 0.7500 | 0.8 |" in text
    assert "| heavy | 3 | - | - | - |" in text
    assert "**Slice floors missed:** slice 'biscoe' has roc_auc 0.7500, below its floor 0.8" in text
    assert "keeps this model as challenger" in text
    assert "| `c0` | 0.1000 |" in text and "| `c4` | 0.0200 |" in text
    assert "`c5`" not in text  # the top five only
    assert "slices.biscoe" not in text


def test_a_report_without_slices_or_importance_has_neither_section():
    text = render(metrics(0.80, 0.83)).markdown
    assert "### Slices" not in text and "### Top inputs" not in text
