# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the sync engine's unit tests and vpp_sync's integration tests: compare store and simulator."""

from __future__ import annotations

API_PREFIX = "/mdm/v2"


def apple_assignments(simulator, location):
    """The simulator's assignments of a location as (adam_id, pricing_param, target_kind, target_id) tuples."""
    return {
        (
            item["adamId"],
            item["pricingParam"],
            "user" if "clientUserId" in item else "device",
            item.get("clientUserId") or item.get("serialNumber"),
        )
        for item in simulator.location_state(location)["assignments"]
    }


def store_assignments(store, name):
    """A token's assignments in the store, in the same spelling as ``apple_assignments``."""
    return {(r["adam_id"], r["pricing_param"], r["target_kind"], r["target_id"]) for r in store.iter_assignments(name)}


def api_counts(simulator, location=None):
    """``{location: {"GET /assets": n, ...}}`` of the Apple API requests the simulator received (or one location's)."""
    counts = {}
    for entry in simulator.request_log(location):
        if entry["path"].startswith(API_PREFIX + "/") and entry["location"] is not None:
            label = "%s %s" % (entry["method"], entry["path"][len(API_PREFIX) :])
            per_location = counts.setdefault(entry["location"], {})
            per_location[label] = per_location.get(label, 0) + 1
    return counts if location is None else counts.get(location, {})
