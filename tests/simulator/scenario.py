# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scenario files: load and normalise them, and write generated ones for scale tests."""

from __future__ import annotations

import copy
import json
import os
import re

import yaml

from .catalogue import DEFAULT_LIMITS, DEFAULT_SETTINGS, PLATFORMS, PRICING_PARAMS, PRODUCT_TYPES

LOCATION_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
USER_STATES = ("Registered", "Associated", "Retired")
LOCATION_TYPES = {
    "business": {"websiteURL": "https://business.apple.com", "defaultPlatform": "enterprisestore"},
    "education": {"websiteURL": "https://school.apple.com", "defaultPlatform": "volumestore"},
}


class ScenarioError(ValueError):
    """The scenario file is not valid; the message names the offending entry."""


def load_scenario(source):
    """Return a normalised scenario from a dict or a ``.yml``/``.yaml``/``.json`` path (input left untouched)."""
    if isinstance(source, (str, os.PathLike)):
        raw = _read_file(os.fspath(source))
    elif isinstance(source, dict):
        raw = copy.deepcopy(source)
    else:
        raise ScenarioError("a scenario is a dict or a path, not %s" % type(source).__name__)
    return normalise_scenario(raw)


def _read_file(path):
    with open(path, encoding="utf-8") as handle:
        if path.endswith(".json"):
            return json.load(handle)
        return yaml.safe_load(handle) or {}


def normalise_scenario(raw):
    unknown_settings = set(raw.get("settings") or {}) - set(DEFAULT_SETTINGS)
    if unknown_settings:
        raise ScenarioError("unknown settings: %s" % ", ".join(sorted(unknown_settings)))
    unknown_limits = set(raw.get("limits") or {}) - set(DEFAULT_LIMITS)
    if unknown_limits:
        raise ScenarioError("unknown limits: %s" % ", ".join(sorted(unknown_limits)))
    locations = [_location(entry, index) for index, entry in enumerate(raw.get("locations") or [])]
    keys = [location["key"] for location in locations]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ScenarioError("duplicate location keys: %s" % ", ".join(duplicates))
    return {
        "settings": dict(DEFAULT_SETTINGS, **(raw.get("settings") or {})),
        "limits": dict(DEFAULT_LIMITS, **(raw.get("limits") or {})),
        "locations": locations,
    }


def _location(entry, index):
    key = str(entry.get("key", ""))
    if not LOCATION_KEY.match(key):
        raise ScenarioError("location #%d: key %r must be a file-name-safe word" % (index, key))
    kind = entry.get("type", "business")
    if kind not in LOCATION_TYPES:
        raise ScenarioError("location %s: type must be business or education" % key)
    location = {
        "key": key,
        "name": str(entry.get("name", key)),
        "org": str(entry.get("org", entry.get("name", key))),
        "uId": str(entry.get("uId", 9000000000000001 + index)),
        "type": kind,
        "country": str(entry.get("country", "US")),
        "expires_in_days": entry.get("expires_in_days", 365),
        "expDate": entry.get("expDate"),
        "managed_domain": entry.get("managed_domain"),
        "read_only": bool(entry.get("read_only", False)),
        "assets": [_asset(key, asset) for asset in entry.get("assets") or []],
        "users": [_user(key, user) for user in entry.get("users") or []],
        "assignments": [_assignment(key, item) for item in entry.get("assignments") or []],
        "generate": _generate_spec(key, entry.get("generate")),
    }
    return location


def _asset(location_key, entry):
    adam_id = str(entry.get("adamId", ""))
    if not adam_id.isdigit():
        raise ScenarioError("location %s: asset adamId %r must be digits" % (location_key, adam_id))
    product_type = entry.get("productType", "App")
    pricing = entry.get("pricingParam", "STDQ")
    platforms = list(entry.get("platforms") or (["iOS", "macOS"] if product_type == "Book" else ["iOS"]))
    if product_type not in PRODUCT_TYPES or pricing not in PRICING_PARAMS or not set(platforms) <= set(PLATFORMS):
        raise ScenarioError(
            "location %s: asset %s has an invalid productType/pricingParam/platform" % (location_key, adam_id)
        )
    is_app = product_type == "App"
    return {
        "adamId": adam_id,
        "pricingParam": pricing,
        "productType": product_type,
        "name": str(entry.get("name", "%s %s" % (product_type, adam_id))),
        "bundleId": entry.get("bundleId", "com.example.app%s" % adam_id if is_app else None),
        "version": str(entry.get("version", "1.0")),
        "platforms": platforms,
        "deviceAssignable": bool(entry.get("deviceAssignable", is_app)),
        "revocable": bool(entry.get("revocable", is_app)),
        "unlimited": bool(entry.get("unlimited", False)),
        "total": int(entry.get("total", 0)),
        "retired": int(entry.get("retired", 0)),
    }


def _user(location_key, entry):
    client_user_id = entry.get("clientUserId")
    status = entry.get("status", "Registered")
    if not client_user_id or status not in USER_STATES:
        raise ScenarioError(
            "location %s: user %r needs clientUserId and a status in %s" % (location_key, entry, USER_STATES)
        )
    return {
        "clientUserId": str(client_user_id),
        "email": entry.get("email"),
        "managedAppleId": entry.get("managedAppleId"),
        "status": status,
    }


def _assignment(location_key, entry):
    has_user, has_serial = "clientUserId" in entry, "serialNumber" in entry
    if has_user == has_serial or "adamId" not in entry:
        raise ScenarioError(
            "location %s: assignment %r needs adamId and one of clientUserId/serialNumber" % (location_key, entry)
        )
    target_key = "clientUserId" if has_user else "serialNumber"
    return {
        "adamId": str(entry["adamId"]),
        "pricingParam": entry.get("pricingParam", "STDQ"),
        target_key: str(entry[target_key]),
    }


def _generate_spec(location_key, spec):
    if not spec:
        return None
    unknown = set(spec) - {"assets", "assignments", "users", "seed", "device_share"}
    if unknown:
        raise ScenarioError("location %s: unknown generate keys %s" % (location_key, sorted(unknown)))
    users = int(spec.get("users", 0))
    return {
        "assets": int(spec.get("assets", 0)),
        "assignments": int(spec.get("assignments", 0)),
        "users": users,
        "seed": spec.get("seed", 1),
        "device_share": float(spec.get("device_share", 0.5 if users else 1.0)),
    }


def generated_scenario(locations, assets, assignments, users=None, seed=1, location_type="business"):
    """A scenario of ``locations`` locations whose data is built in memory at load time (never stored row by row)."""
    users = users if users is not None else max(1, assignments // 10) if assignments else 0
    return {
        "settings": {"seed": seed},
        "locations": [
            {
                "key": "loc-%05d" % index,
                "name": "Generated location %d" % index,
                "org": "Generated Org",
                "uId": str(9100000000000000 + index),
                "type": location_type,
                "managed_domain": "example.org",
                "generate": {"assets": assets, "assignments": assignments, "users": users, "seed": seed + index},
            }
            for index in range(locations)
        ],
    }


def write_scenario(scenario, path):
    """Write a scenario as JSON (``.json``) or YAML (anything else)."""
    with open(path, "w", encoding="utf-8") as handle:
        if path.endswith(".json"):
            json.dump(scenario, handle, indent=1)
        else:
            yaml.safe_dump(scenario, handle, sort_keys=False)
