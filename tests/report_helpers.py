# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the license report's HTML page back (stdlib html.parser), as a person's eye would: tables, bars, alerts.

Shared by the report's unit tests and the integration test that renders a real run in Chromium.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_WIDTH = 1200
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


@dataclass
class Bar:
    """One bar of the chart: its data attributes, the widths of its parts and the texts in it."""

    attrs: dict
    rects: dict = field(default_factory=dict)  # class -> width
    texts: list = field(default_factory=list)
    title: str = ""


@dataclass
class Page:
    title: str = ""
    tables: dict = field(default_factory=dict)  # table id -> list of rows (list of cell texts), header first
    row_classes: dict = field(default_factory=dict)  # table id -> class of each body row
    bars: list = field(default_factory=list)
    alerts: list = field(default_factory=list)  # (class, tag, message)
    cards: dict = field(default_factory=dict)  # label -> value text
    svg_count: int = 0
    scripts: int = 0
    external_refs: list = field(default_factory=list)  # src/href values that point outside the page
    text: list = field(default_factory=list)


class ReportParser(HTMLParser):
    """Collects what the tests look at; every piece of text is kept unescaped, as a browser shows it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.stack = []
        self.table = None
        self.row = None
        self.cell = None
        self.current_bar = None
        self.bar_text = None
        self.alert = None
        self.card = None
        self.in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.stack.append(tag)
        for name in ("src", "href"):
            if attrs.get(name) and not attrs[name].startswith(("#", "data:")):
                self.page.external_refs.append(attrs[name])
        if tag == "script":
            self.page.scripts += 1
        elif tag == "svg":
            self.page.svg_count += 1
        elif tag == "title":
            self.in_title = True
        elif tag == "table":
            self.table = attrs.get("id")
            self.page.tables[self.table] = []
            self.page.row_classes[self.table] = []
        elif tag == "tr" and self.table is not None:
            self.row = []
            if "tbody" in self.stack:
                self.page.row_classes[self.table].append(attrs.get("class") or "")
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "g" and "bar" in (attrs.get("class") or "").split():
            self.current_bar = Bar(attrs)
        elif tag == "rect" and self.current_bar is not None:
            self.current_bar.rects[attrs.get("class")] = float(attrs["width"])
        elif tag == "text" and self.current_bar is not None:
            self.bar_text = []
        elif tag == "li" and "ul" in self.stack and self.alert is None and self.card is None:
            self.alert = (attrs.get("class") or "", [])
            self.card = []

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag:
            pass
        if tag == "title":
            self.in_title = False
        elif tag in ("td", "th") and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.page.tables[self.table].append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None
        elif tag == "text" and self.bar_text is not None:
            self.current_bar.texts.append("".join(self.bar_text).strip())
            self.bar_text = None
        elif tag == "g" and self.current_bar is not None:
            self.page.bars.append(self.current_bar)
            self.current_bar = None
        elif tag == "li" and self.alert is not None:
            self.page.alerts.append((self.alert[0], [chunk.strip() for chunk in self.alert[1] if chunk.strip()]))
            self.alert = None
            self.card = None

    def handle_data(self, data):
        self.page.text.append(data)
        if self.in_title and self.current_bar is None and not self.page.title and "svg" not in self.stack:
            self.page.title = data
        if self.in_title and self.current_bar is not None:
            self.current_bar.title += data
        if self.cell is not None:
            self.cell.append(data)
        if self.bar_text is not None:
            self.bar_text.append(data)
        if self.alert is not None:
            self.alert[1].append(data)


def parse_report(html):
    """The report page as a ``Page``; alerts and summary cards are both list items, told apart here."""
    parser = ReportParser()
    parser.feed(html)
    parser.close()
    page = parser.page
    alerts, cards = [], {}
    for css_class, chunks in page.alerts:
        if css_class in ("warning", "critical"):  # <span class="tag">TAG</span>MESSAGE
            alerts.append((css_class, chunks[0], " ".join(chunks[1:])))
        else:  # <b>VALUE</b><span>LABEL</span>
            cards[chunks[1]] = chunks[0]
    page.alerts, page.cards = alerts, cards
    return page


def body_rows(page, table_id):
    """The rows of a table without its header row."""
    return page.tables[table_id][1:]


# --- Chromium screenshots -------------------------------------------------------------------------------------------


def chromium():
    """The path of Debian's ``chromium``, installed first when missing (tools/debian-packages.sh; CI runs as root)."""
    if not shutil.which("chromium"):
        install = subprocess.run(
            [str(REPO_ROOT / "tools" / "debian-packages.sh"), "chromium:chromium"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert install.returncode == 0, "could not install chromium: %s" % install.stderr
    return shutil.which("chromium")


def screenshot(html_file, png_file, profile_dir, height, width=CHROMIUM_WIDTH):
    """Open ``html_file`` in headless Chromium (a private profile, no network) and save a PNG of the window."""
    command = [chromium(), *CHROMIUM_FLAGS, "--user-data-dir=%s" % profile_dir, "--window-size=%d,%d" % (width, height)]
    command += ["--screenshot=%s" % png_file, Path(html_file).resolve().as_uri()]
    env = dict(os.environ, HOME=str(profile_dir))
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert result.returncode == 0 and Path(png_file).exists(), "chromium failed: %s" % result.stderr[-2000:]
    return Path(png_file)


# --- reading a PNG (stdlib only: 8-bit RGB or RGBA, not interlaced, as Chromium writes them) ------------------------


@dataclass
class Pixels:
    rows: list  # one bytearray per row
    channels: int  # 3 (RGB) or 4 (RGBA)


def png_chunks(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos = 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        yield kind, data[pos + 8 : pos + 8 + length]
        pos += 12 + length


def paeth(a, b, c):
    estimate = a + b - c
    pa, pb, pc = abs(estimate - a), abs(estimate - b), abs(estimate - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def unfilter(kind, line, previous, channels):
    """Undo one scanline's PNG filter (RFC 2083, 6.3) in place; returns the line."""
    if kind == 1:
        for i in range(channels, len(line)):
            line[i] = (line[i] + line[i - channels]) & 255
    elif kind == 2:
        line = bytearray((x + y) & 255 for x, y in zip(line, previous, strict=True))
    elif kind == 3:
        for i in range(len(line)):
            left = line[i - channels] if i >= channels else 0
            line[i] = (line[i] + (left + previous[i]) // 2) & 255
    elif kind == 4:
        for i in range(len(line)):
            left, up_left = (line[i - channels], previous[i - channels]) if i >= channels else (0, 0)
            line[i] = (line[i] + paeth(left, previous[i], up_left)) & 255
    return line


def read_png(data):
    """``(width, height, Pixels)`` of a PNG file's bytes."""
    header, compressed = None, []
    for kind, chunk in png_chunks(data):
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            compressed.append(chunk)
    width, height, depth, color_type, _compression, _filter, interlace = header
    assert depth == 8 and color_type in (2, 6) and interlace == 0, "unsupported PNG layout %r" % (header,)
    channels = 3 if color_type == 2 else 4
    raw = zlib.decompress(b"".join(compressed))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        previous = unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous, channels)
        rows.append(previous)
    return width, height, Pixels(rows, channels)


def color_counts(pixels):
    """``{(r, g, b): number of pixels}`` (alpha ignored)."""
    counts = Counter()
    step = pixels.channels
    for row in pixels.rows:
        counts.update(zip(row[0::step], row[1::step], row[2::step], strict=True))
    return counts
