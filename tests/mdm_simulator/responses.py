# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Answers as ``(status, headers, body bytes)``, encoded the way the Go servers encode them."""

from __future__ import annotations

import json

JSON_TYPE = "application/json"


def go_json(value, indent=None):
    """``json.Encoder`` output: compact (or indented) plus a trailing newline."""
    if indent is None:
        return (json.dumps(value, separators=(",", ":")) + "\n").encode("utf-8")
    return (json.dumps(value, indent=indent) + "\n").encode("utf-8")


def json_answer(status, value, indent=None, headers=None):
    return status, {"Content-Type": JSON_TYPE, **(headers or {})}, go_json(value, indent)


def text_answer(status, text, headers=None):
    """Go's ``http.Error``: text/plain, nosniff, the text plus a newline."""
    data = (text + "\n").encode("utf-8")
    return status, {"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff",
                    **(headers or {})}, data  # fmt: skip


def empty_answer(status, headers=None):
    return status, dict(headers or {}), b""


NOT_FOUND = text_answer(404, "404 page not found")
