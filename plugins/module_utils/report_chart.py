# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The license report's bar chart: inline SVG, one bar per app, its whole length the app's licenses.

Pure functions of the report's app rows (see report_rows.py); report_html.py puts the chart in the page.
"""

from __future__ import annotations

from html import escape

from ansible_collections.mdm.vpp.plugins.module_utils.report_rows import display_name, sort_key, truncate

# Chart geometry (SVG user units; the SVG scales to the page width): one row per app.
CHART_WIDTH = 960
CHART_LABEL_WIDTH = 330
CHART_BAR_WIDTH = 440
CHART_ROW_HEIGHT = 24
CHART_BAR_HEIGHT = 14
CHART_TOP = 30
CHART_LABEL_CHARS = 44  # about what fits in CHART_LABEL_WIDTH at 13px; the full name is in the row's <title>

COLOR_USED = "#2f6fdf"
COLOR_USED_LOW = "#d64545"
COLOR_AVAILABLE = "#cde8d6"
COLOR_UNLIMITED = "#e4e7eb"


def html_text(value):
    """Text for HTML and inline SVG, with ``<``, ``>``, ``&`` and both quotes escaped."""
    return escape("" if value is None else str(value), quote=True)


def bar_widths(row, width=CHART_BAR_WIDTH):
    """``(used, available)`` widths of an app's bar: the whole bar is its total, the used part its assigned share.

    Rounded to a tenth of a unit; an app with no license at all has an empty bar.
    """
    if row["total"] <= 0:
        return 0.0, 0.0
    used = round(width * min(row["assigned"], row["total"]) / row["total"], 1)
    return used, round(width - used, 1)


def chart_order(rows):
    """Fullest first, so the apps that run out head the chart; unlimited apps last, then by name."""
    return sorted(rows, key=lambda row: (row["unlimited"], -row["percent_used"], sort_key(row)))


def chart_row(index, row):
    top = CHART_TOP + index * CHART_ROW_HEIGHT
    bar_y = top + (CHART_ROW_HEIGHT - CHART_BAR_HEIGHT) / 2
    text_y = top + CHART_ROW_HEIGHT / 2 + 4.5
    bar_x = CHART_LABEL_WIDTH
    name, token = display_name(row), row["token"] or ""
    label = truncate(name, max(CHART_LABEL_CHARS - len(token) - 3, 12))
    title = "%s (%s): %s" % (name, token, bar_caption(row))
    parts = [
        '<g class="bar" data-adam-id="%s" data-token="%s" data-total="%d" data-assigned="%d">'
        % (html_text(row["adam_id"]), html_text(token), row["total"], row["assigned"]),
        "<title>%s</title>" % html_text(title),
        '<text x="0" y="%.1f">%s <tspan class="token" fill="#7b8794" font-size="12">%s</tspan></text>'
        % (text_y, html_text(label), html_text(token)),
    ]
    if row["unlimited"]:
        parts.append(
            '<rect class="unlimited" x="%d" y="%.1f" width="%d" height="%d" rx="2" fill="url(#unlimited)"/>'
            % (bar_x, bar_y, CHART_BAR_WIDTH, CHART_BAR_HEIGHT)
        )
    else:
        used, available = bar_widths(row)
        parts.append(
            '<rect class="available" x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"/>'
            % (bar_x + used, bar_y, available, CHART_BAR_HEIGHT, COLOR_AVAILABLE)
        )
        parts.append(
            '<rect class="used" x="%d" y="%.1f" width="%.1f" height="%d" fill="%s"/>'
            % (bar_x, bar_y, used, CHART_BAR_HEIGHT, COLOR_USED_LOW if row["low"] else COLOR_USED)
        )
    parts.append(
        '<text x="%d" y="%.1f"%s>%s</text>'
        % (bar_x + CHART_BAR_WIDTH + 12, text_y, ' class="low"' if row["low"] else "", html_text(bar_caption(row)))
    )
    parts.append("</g>")
    return "".join(parts)


def bar_caption(row):
    if row["unlimited"]:
        return "unlimited, %s used" % "{:,}".format(row["assigned"])
    if row["total"] <= 0:
        return "no licenses"
    return "%s of %s used, %s left" % (
        "{:,}".format(row["assigned"]),
        "{:,}".format(row["total"]),
        "{:,}".format(row["available"]),
    )


def chart_scale():
    """Grid lines and labels at 0, 25, 50, 75 and 100 % of each app's licenses."""
    height = CHART_TOP - 8
    parts = []
    for percent in (0, 25, 50, 75, 100):
        parts.append(
            '<text class="scale" x="%.1f" y="%d" text-anchor="middle" fill="#7b8794" font-size="12">%d%%</text>'
            % (scale_x(percent), height - 6, percent)
        )
    return "".join(parts)


def scale_x(percent):
    return CHART_LABEL_WIDTH + CHART_BAR_WIDTH * percent / 100.0


def chart_grid(row_count):
    bottom = CHART_TOP + row_count * CHART_ROW_HEIGHT
    return "".join(
        '<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e4e7eb"/>'
        % (scale_x(percent), CHART_TOP - 10, scale_x(percent), bottom)
        for percent in (25, 50, 75, 100)
    )


def render_chart(rows):
    """Inline SVG: one horizontal bar per app, its whole length the app's licenses, split into used and available."""
    ordered = chart_order(rows)
    height = CHART_TOP + len(ordered) * CHART_ROW_HEIGHT + 6
    pattern = (
        '<defs><pattern id="unlimited" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="8" height="8" fill="%s"/>'
        '<rect width="3" height="8" fill="#cbd2d9"/></pattern></defs>' % COLOR_UNLIMITED
    )
    return (
        '<svg class="chart" id="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" '
        'height="%d" role="img" aria-labelledby="chart-title"><title id="chart-title">Licenses used and available '
        "per app</title>%s%s%s%s</svg>"
        % (
            CHART_WIDTH,
            height,
            CHART_WIDTH,
            height,
            pattern,
            chart_grid(len(ordered)),
            chart_scale(),
            "".join(chart_row(index, row) for index, row in enumerate(ordered)),
        )
    )


def render_legend():
    return (
        '<p class="legend"><span><i style="background:%s"></i>used (assigned)</span>'
        '<span><i style="background:%s"></i>used, app low on licenses</span>'
        '<span><i style="background:%s"></i>available</span>'
        '<span><i style="background:repeating-linear-gradient(45deg,%s 0 3px,#cbd2d9 3px 5px)"></i>unlimited</span>'
        "</p>" % (COLOR_USED, COLOR_USED_LOW, COLOR_AVAILABLE, COLOR_UNLIMITED)
    )
