"""A self-contained HTML drift report: inline CSS and SVG, no scripts, no external URLs."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem}
.drift{background:#fde2e1}.ok{background:#e3f6e5}.alarm{color:#b00020}.fine{color:#1b5e20}
figure{display:inline-block;margin:.5rem}figcaption{font-size:.8rem;text-align:center}
"""


def histogram_svg(reference: pd.Series, current: pd.Series, *, bins: int = 20) -> str:
    """Overlaid reference (grey) and current (red) histograms as an inline SVG."""
    ref, cur = reference.dropna().to_numpy(float), current.dropna().to_numpy(float)
    if len(ref) == 0 or len(cur) == 0:
        return ""
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins=bins)
    ref_share = np.histogram(ref, edges)[0] / len(ref)
    cur_share = np.histogram(cur, edges)[0] / len(cur)
    width, height, bar = 240, 90, 240 / bins
    top = max(ref_share.max(), cur_share.max()) or 1.0
    rects = []
    for index, (r, c) in enumerate(zip(ref_share, cur_share, strict=True)):
        for share, colour in ((r, "#9e9e9e"), (c, "#e53935")):
            h = height * share / top
            rects.append(
                f'<rect x="{index * bar:.1f}" y="{height - h:.1f}" width="{bar - 1:.1f}" '
                f'height="{h:.1f}" fill="{colour}" fill-opacity="0.55"/>'
            )
    return f'<svg width="{width}" height="{height}" role="img">{"".join(rects)}</svg>'


def render_html(summary: dict, reference: pd.DataFrame, current: pd.DataFrame) -> str:
    """The whole report page."""
    verdict = (
        '<p class="alarm"><b>Drift alarm</b>: '
        if summary["alarm"]
        else '<p class="fine"><b>No drift alarm</b>: '
    )
    verdict += (
        f"{len(summary['drifted_features'])} of {summary['n_features']} features drifted "
        f"(share {summary['drift_share']:.2f}, threshold {summary['threshold']}).</p>"
    )
    rows = []
    for feature in summary["features"]:
        css = "drift" if feature["drifted"] else "ok"
        rows.append(
            f'<tr class="{css}"><td>{html.escape(feature["feature"])}</td><td>{feature["test"]}</td>'
            f"<td>{feature['statistic']:.4f}</td><td>{feature['p_value']:.4g}</td>"
            f"<td>{feature['psi']:.4f}</td><td>{feature['missing_reference']:.3f}</td>"
            f"<td>{feature['missing_current']:.3f}</td><td>{'yes' if feature['drifted'] else 'no'}</td></tr>"
        )
    figures = [
        f"<figure>{histogram_svg(reference[f['feature']], current[f['feature']])}"
        f"<figcaption>{html.escape(f['feature'])}</figcaption></figure>"
        for f in summary["features"]
        if f["kind"] == "numeric"
    ]
    prediction = summary.get("prediction_shift")
    shift = (
        f"<p>Prediction shift (KS): statistic {prediction['statistic']:.4f}, "
        f"p-value {prediction['p_value']:.4g}, mean {prediction['reference_mean']:.3f} → "
        f"{prediction['current_mean']:.3f}.</p>"
        if prediction
        else ""
    )
    problems = (
        "".join(f"<li>{html.escape(p)}</li>" for p in summary["schema_problems"]) or "<li>none</li>"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Drift report</title>"
        f"<style>{STYLE}</style></head><body><h1>Drift report</h1>"
        f"<p>Current data: {html.escape(summary['current_source'])} ({summary['n_current']} rows); "
        f"reference: {summary['n_reference']} training rows.</p>{verdict}{shift}"
        "<h2>Features</h2><table><tr><th>feature</th><th>test</th><th>statistic</th><th>p-value</th>"
        "<th>PSI</th><th>missing (ref)</th><th>missing (current)</th><th>drifted</th></tr>"
        f"{''.join(rows)}</table><h2>Distributions (grey: reference, red: current)</h2>"
        f"{''.join(figures)}<h2>Schema violations</h2><ul>{problems}</ul></body></html>\n"
    )
