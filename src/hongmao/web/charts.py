"""Charts as inline SVG rendered on the server by pygal: nothing for the browser to fetch, no script at all.

pygal's default config points at its tooltip script on a CDN; ``js=[]`` turns that off, which is what keeps
every console page on the server's own origin. The SVG goes into the page as-is (``Markup``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import pygal  # type: ignore[import-untyped]
from markupsafe import Markup
from pygal.etree import etree  # type: ignore[import-untyped]
from pygal.style import Style  # type: ignore[import-untyped]

# pygal puts an import hook on sys.meta_path (for its optional ``pygal.maps`` plugins, unused here) that lacks
# ``find_spec``: every later import then warns (ImportWarning). Take it off again.
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"]

PALETTE = ("#ff2442", "#ff9f1c", "#2563eb", "#16a34a", "#7c3aed", "#0891b2", "#db2777")

_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#374151",
    foreground_strong="#111827",
    foreground_subtle="#e5e7eb",
    font_family='-apple-system, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", system-ui, sans-serif',
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    value_font_size=11,
    tooltip_font_size=12,
    colors=PALETTE,
    opacity=".85",
    opacity_hover=".95",
)


def _config(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "style": _STYLE,
        "js": [],  # no CDN script: see the module docstring
        "disable_xml_declaration": True,
        "legend_at_bottom": True,
        "legend_box_size": 10,
        "margin": 8,
        "show_y_guides": True,
        "show_x_guides": False,
        "print_values": False,
        "explicit_size": False,
        "no_data_text": "—",
    }
    base.update(extra)
    return base


def _local(node: Any) -> str:
    """An element's name without its namespace ("" for comments)."""
    return node.tag.rpartition("}")[2] if isinstance(node.tag, str) else ""


def _svg(chart: Any) -> Markup:
    """The chart as SVG with no script and a native tooltip on every value.

    pygal writes an inline ``<script>`` with its tooltip configuration into every chart, even with ``js=[]``:
    the console's CSP (``script-src 'self'``) refuses it and the browser logs a violation. It is dropped, and each
    value's ``<desc class="value">`` becomes an SVG ``<title>``, which the browser shows on hover by itself.
    """
    tree = chart.render_tree()
    namespace = tree.tag.rpartition("}")[0] + "}" if tree.tag.startswith("{") else ""
    for parent in list(tree.iter()):
        for child in list(parent):
            if _local(child) == "script":
                parent.remove(child)
        descs = {c.get("class"): c.text for c in parent if _local(c) == "desc"}
        if descs.get("value"):
            title = etree.Element(f"{namespace}title")
            label = descs.get("x_label")
            title.text = f"{label}: {descs['value']}" if label else str(descs["value"])
            parent.insert(0, title)
    return Markup(etree.tostring(tree, encoding="unicode"))


def _value(value: Any) -> float | None:
    """A figure as a chart point: a day whose figure is withheld (None, or a marker) is a gap, not a zero."""
    return round(float(value), 2) if isinstance(value, int | float) else None


def _every(labels: Sequence[str], most: int = 12) -> list[str]:
    step = max(1, -(-len(labels) // most))
    return [label if i % step == 0 else "" for i, label in enumerate(labels)]


def daily(rows: Sequence[dict[str, Any]], labels: dict[str, str]) -> Markup:
    """GMV, attributed GMV, attributed net GMV and spend per day (a line each)."""
    chart = pygal.Line(
        **_config(width=900, height=300, show_dots=len(rows) <= 14, dots_size=3, stroke_style={"width": 2})
    )
    chart.x_labels = _every([r["day"][5:] for r in rows])
    chart.x_labels_major_count = 12
    chart.value_formatter = lambda v: f"¥{v:,.0f}"
    for key, label in (
        ("gmv", labels["gmv"]),
        ("attributed_gmv", labels["attributed_gmv"]),
        ("attributed_net_gmv", labels["net"]),
        ("spend", labels["spend"]),
    ):
        chart.add(label, [_value(r[key]) for r in rows])
    return _svg(chart)


def orders(rows: Sequence[dict[str, Any]], labels: dict[str, str]) -> Markup:
    top = max([int(r["orders"]) for r in rows if isinstance(r["orders"], int | float)] or [1]) or 1
    step = max(1, -(-top // 4))
    chart = pygal.Bar(**_config(width=900, height=180, show_legend=True, y_labels=list(range(0, top + step, step))))
    chart.x_labels = _every([r["day"][5:] for r in rows])
    chart.add(labels["orders"], [_value(r["orders"]) for r in rows])
    chart.add(labels["attributed_orders"], [_value(r["attributed_orders"]) for r in rows])
    return _svg(chart)


def clicks(rows: Sequence[dict[str, Any]], labels: dict[str, str]) -> Markup:
    """A link's human clicks and its bot and preview fetches per day (stacked bars)."""
    top = max([(r["clicks"] or 0) + (r["bot_clicks"] or 0) for r in rows] or [1]) or 1  # None: withheld
    step = max(1, -(-top // 4))
    chart = pygal.StackedBar(
        **_config(width=900, height=200, show_legend=True, y_labels=list(range(0, top + step, step)))
    )
    chart.x_labels = _every([r["day"][5:] for r in rows])
    chart.add(labels["clicks"], [r["clicks"] for r in rows])
    chart.add(labels["bot_clicks"], [r["bot_clicks"] for r in rows])
    return _svg(chart)


def funnel(steps: Sequence[tuple[str, int | None]]) -> Markup:
    """The funnel's steps as horizontal bars on a log scale (impressions and orders differ by 1000x), top down."""
    top = max([v for _, v in steps if v] or [1])
    chart = pygal.HorizontalBar(
        **_config(
            width=900,
            height=340,
            logarithmic=True,
            show_legend=False,
            print_values=True,
            print_values_position="top",
            range=(1, top * 1.5),
            show_minor_x_labels=False,
            show_minor_y_labels=False,
        )
    )
    shown = list(reversed(steps))  # pygal draws the first label at the bottom
    chart.x_labels = [label for label, _ in shown]
    chart.value_formatter = lambda v: f"{v:,.0f}"
    chart.add("", [{"value": v if v else None, "color": PALETTE[i % 2]} for i, (_, v) in enumerate(shown)])
    return _svg(chart)


def compare(rows: Sequence[dict[str, Any]], models: Sequence[tuple[str, str]], metric: str) -> Markup:
    """Grouped bars: the top keys' credit under each model."""
    chart = pygal.Bar(**_config(width=900, height=320, x_label_rotation=20, truncate_label=14))
    chart.x_labels = [r["key"] for r in rows]
    for model, label in models:
        chart.add(label, [round(r[metric][model], 2) for r in rows])
    return _svg(chart)


def shares(rows: Sequence[dict[str, Any]], series: Sequence[tuple[str, str]]) -> Markup:
    """Daily shares (0..1) as percentage lines: ``series`` holds (row key, label) pairs."""
    chart = pygal.Line(
        **_config(width=900, height=260, show_dots=len(rows) <= 14, dots_size=3, stroke_style={"width": 2})
    )
    chart.x_labels = _every([r["day"][5:] for r in rows])
    chart.value_formatter = lambda v: f"{v:.1f}%"
    for key, label in series:
        chart.add(label, [None if r[key] is None else round(100 * r[key], 2) for r in rows])
    return _svg(chart)
