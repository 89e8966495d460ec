"""A self-contained HTML drift report: inline CSS and SVG, no scripts, no external URLs."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem}
.drift{background:#fde2e1}.ok{background:#e3f6e5}.alarm{color:#b00020}.fine{color:#1b5e20}
.warn{color:#8a5a00}
figure{display:inline-block;margin:.5rem}figcaption{font-size:.8rem;text-align:center}
"""


WIDTH, HEIGHT = 300, 150  # the whole chart
LEFT, BOTTOM, TOP, RIGHT = 42, 34, 8, 8  # room for the axes and their labels
REFERENCE, CURRENT = "#9e9e9e", "#e53935"
MAX_CATEGORIES = 12


def _number(value: float) -> str:
    return f"{value:.3g}"


def _chart(
    bars: list[tuple[float, float, float, str]], top: float, x_labels: str, x_title: str
) -> str:
    """An SVG with axes: ``bars`` are (x, width, share, colour) in plot units (0..1 across)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    shapes = []
    for x, width, share, colour in bars:
        h = plot_h * share / top
        shapes.append(
            f'<rect x="{LEFT + x * plot_w:.1f}" y="{TOP + plot_h - h:.1f}" '
            f'width="{max(width * plot_w - 1, 1):.1f}" height="{h:.1f}" fill="{colour}" '
            'fill-opacity="0.6"/>'
        )
    axes = (
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#444"/>'
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#444"/>'
        f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end">{top:.0%}</text>'
        f'<text x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end">0%</text>'
        f'<text x="10" y="{TOP + plot_h / 2}" transform="rotate(-90 10 {TOP + plot_h / 2})" '
        'text-anchor="middle">share of rows</text>'
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 2}" text-anchor="middle">'
        f"{html.escape(x_title)}</text>"
    )
    return (
        f'<svg width="{WIDTH}" height="{HEIGHT}" role="img" font-size="9" '
        f'font-family="sans-serif">{"".join(shapes)}{axes}{x_labels}</svg>'
    )


def histogram_svg(reference: pd.Series, current: pd.Series, *, bins: int = 20) -> str:
    """Overlaid reference (grey) and current (red) histograms of a number, with axes."""
    ref, cur = reference.dropna().to_numpy(float), current.dropna().to_numpy(float)
    if len(ref) == 0 or len(cur) == 0:
        return ""
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins=bins)
    ref_share = np.histogram(ref, edges)[0] / len(ref)
    cur_share = np.histogram(cur, edges)[0] / len(cur)
    top = float(max(ref_share.max(), cur_share.max())) or 1.0
    step = 1 / bins
    bars = [
        (index * step, step, float(share), colour)
        for index, (r, c) in enumerate(zip(ref_share, cur_share, strict=True))
        for share, colour in ((r, REFERENCE), (c, CURRENT))
    ]
    plot_w, base = WIDTH - LEFT - RIGHT, HEIGHT - BOTTOM + 11
    ticks = "".join(
        f'<text x="{LEFT + fraction * plot_w:.1f}" y="{base}" text-anchor="{anchor}">'
        f"{_number(value)}</text>"
        for fraction, value, anchor in (
            (0.0, edges[0], "start"),
            (0.5, (edges[0] + edges[-1]) / 2, "middle"),
            (1.0, edges[-1], "end"),
        )
    )
    return _chart(bars, top, ticks, "value")


def bar_chart_svg(reference: pd.Series, current: pd.Series) -> str:
    """Side-by-side shares of each category (missing included) in reference and current data."""
    ref = reference.fillna("<missing>").astype(str).value_counts(normalize=True)
    cur = current.fillna("<missing>").astype(str).value_counts(normalize=True)
    categories = list((ref.add(cur, fill_value=0)).sort_values(ascending=False).index)
    if not categories:
        return ""
    shown = categories[:MAX_CATEGORIES]
    step = 1 / len(shown)
    bars, labels = [], []
    plot_w, base = WIDTH - LEFT - RIGHT, HEIGHT - BOTTOM + 11
    for index, category in enumerate(shown):
        bars.append((index * step + step * 0.1, step * 0.4, float(ref.get(category, 0)), REFERENCE))
        bars.append((index * step + step * 0.5, step * 0.4, float(cur.get(category, 0)), CURRENT))
        text = category if len(category) <= 10 else category[:9] + "…"
        labels.append(
            f'<text x="{LEFT + (index + 0.5) * step * plot_w:.1f}" y="{base}" '
            f'text-anchor="middle">{html.escape(text)}</text>'
        )
    top = float(max(ref.max(), cur.max())) or 1.0
    hidden = len(categories) - len(shown)
    title = f"category ({hidden} rarer not shown)" if hidden else "category"
    return _chart(bars, top, "".join(labels), title)


def distribution_svg(kind: str, reference: pd.Series, current: pd.Series) -> str:
    """A histogram for numbers, a bar chart for categories and booleans."""
    if kind in ("numeric", "integer"):
        return histogram_svg(reference, current)
    return bar_chart_svg(reference, current)


def _ranked(features: list[dict]) -> str:
    """A note that features are ordered by importance, naming the drifted ones; "" if not."""
    if not any(feature.get("importance") is not None for feature in features):
        return ""
    drifted = [html.escape(f["feature"]) for f in features if f["drifted"]]
    named = f" Drifted, most important first: {', '.join(drifted)}." if drifted else ""
    return (
        "<p>Features are ordered by their importance to the model (permutation importance on "
        f"the holdout, reports/importance.json), most important first.{named}</p>"
    )


def _importance_cell(feature: dict) -> str:
    value = feature.get("importance")
    return f"<td>{'-' if value is None else f'{value:.4f}'}</td>"


def render_html(summary: dict, reference: pd.DataFrame, current: pd.DataFrame) -> str:
    """The whole report page."""
    verdict = (
        '<p class="alarm"><b>Drift alarm</b>: '
        if summary["alarm"]
        else '<p class="fine"><b>No drift alarm</b>: '
    )
    verdict += (
        f"{len(summary['drifted_features'])} of {summary['n_features']} features drifted "
        f"(share {summary['drift_share']:.2f}, threshold {summary['threshold']})"
    )
    if summary.get("failed_checks"):
        verdict += (
            f"; the project's checks alarmed: {html.escape(', '.join(summary['failed_checks']))}"
        )
    verdict += ".</p>"
    ranked = _ranked(summary["features"])
    rows = []
    for feature in summary["features"]:
        css = "drift" if feature["drifted"] else "ok"
        rows.append(
            f'<tr class="{css}"><td>{html.escape(feature["feature"])}</td><td>{feature["test"]}</td>'
            f"<td>{feature['statistic']:.4f}</td><td>{feature['p_value']:.4g}</td>"
            f"<td>{feature['psi']:.4f}</td><td>{feature['missing_reference']:.3f}</td>"
            f"<td>{feature['missing_current']:.3f}</td><td>{'yes' if feature['drifted'] else 'no'}</td>"
            f"{_importance_cell(feature) if ranked else ''}</tr>"
        )
    figures = [
        f"<figure>{distribution_svg(f['kind'], reference[f['feature']], current[f['feature']])}"
        f"<figcaption>{html.escape(f['feature'])} ({f['test']})</figcaption></figure>"
        for f in summary["features"]
    ]
    prediction = summary.get("prediction_shift")
    shift = (
        f"<p>Prediction shift (KS): statistic {prediction['statistic']:.4f}, "
        f"p-value {prediction['p_value']:.4g}, mean {prediction['reference_mean']:.3f} → "
        f"{prediction['current_mean']:.3f}.</p>"
        if prediction
        else ""
    )
    checks = "".join(
        f'<tr class="{"drift" if check["alarm"] else "ok"}"><td>{html.escape(check["name"])}</td>'
        f"<td>{check['value']:.4g}</td><td>{'yes' if check['alarm'] else 'no'}</td></tr>"
        for check in summary.get("checks", [])
    )
    if checks:
        checks = (
            "<h2>The project's checks</h2><table><tr><th>check</th><th>value</th>"
            f"<th>alarm</th></tr>{checks}</table>"
        )
    warnings = "".join(
        f'<p class="warn"><b>Warning</b>: {html.escape(text)}</p>' for text in summary["warnings"]
    )
    problems = (
        "".join(f"<li>{html.escape(p)}</li>" for p in summary["schema_problems"]) or "<li>none</li>"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Drift report</title>"
        f"<style>{STYLE}</style></head><body><h1>Drift report</h1>"
        f"<p>Current data: {html.escape(summary['current_source'])} ({summary['n_current']} rows); "
        f"reference: {summary['n_reference']} training rows.</p>{verdict}{warnings}{shift}"
        f"<h2>Features</h2>{ranked}<table><tr><th>feature</th><th>test</th><th>statistic</th>"
        "<th>p-value</th><th>PSI</th><th>missing (ref)</th><th>missing (current)</th>"
        f"<th>drifted</th>{'<th>importance</th>' if ranked else ''}</tr>"
        f"{''.join(rows)}</table>{checks}<h2>Distributions (grey: reference, red: current)</h2>"
        f"{''.join(figures)}<h2>Schema violations</h2><ul>{problems}</ul></body></html>\n"
    )
