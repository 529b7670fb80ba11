# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scenario loading: a YAML/JSON file path or a dict (see README.md, *Scenario format*)."""

from __future__ import annotations

import copy
import json
import os

import yaml

SMALL_SCENARIO = os.path.join(os.path.dirname(__file__), "scenarios", "small.yml")
PLATFORMS = ("ios", "macos")
ANSWER_KINDS = ("acknowledged", "not_now", "error", "format_error")


def load_scenario(scenario):
    if scenario is None:
        scenario = SMALL_SCENARIO
    if isinstance(scenario, (str, os.PathLike)):
        with open(scenario, encoding="utf-8") as handle:
            text = handle.read()
        scenario = json.loads(text) if str(scenario).endswith(".json") else yaml.safe_load(text)
    scenario = copy.deepcopy(scenario or {})
    seen = set()
    for device in scenario.get("devices") or ():
        if not device.get("udid"):
            raise ValueError("every device needs a udid")
        if device["udid"] in seen:
            raise ValueError("duplicate udid %s" % device["udid"])
        seen.add(device["udid"])
        if device.get("platform", "ios") not in PLATFORMS:
            raise ValueError("platform is ios or macos: %s" % device["udid"])
        for item in device.get("answers") or ():
            kind = item if isinstance(item, str) else (item.get("kind") or item.get("status") or next(iter(item)))
            if kind not in ANSWER_KINDS:
                raise ValueError("answers items are %s, not %r" % (", ".join(ANSWER_KINDS), kind))
    scenario["apps"] = {str(key): value for key, value in (scenario.get("apps") or {}).items()}
    return scenario
