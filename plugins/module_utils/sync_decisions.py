# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure decisions of the sync engine: its options, which mode, Apple's records as store rows, what to report.

No store, no client, no clock of their own (``now`` is given): ``token_sync.py`` runs them for one token and
``sync.py`` for many.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.parallel import check_parallel
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import parse_timestamp
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import (
    DEFAULT_PRICING_PARAM,
    DEVICE,
    USER,
    apple_asset_key,
    apple_target_key,
    stored_asset_key,
)

MODES = ("full", "incremental", "auto")
DEFAULT_MODE = "full"  # a manual sync is always full
DEFAULT_FULL_SYNC_INTERVAL_DAYS = 7
UNLIMITED_TOTAL_COUNT = 2147483647  # Apple's totalCount of an unlimited (free) asset

REASON_REQUESTED = "requested"
REASON_NEVER_SYNCED = "auto: never synced"
REASON_AUTO_AGE = "auto: last full sync %d days ago"
REASON_NO_VERSION = "fallback: no stored versionId to ask Apple for changes"
REASON_VERSION_REJECTED = "fallback: Apple rejected the stored versionId"
REASON_COUNTS_DISAGREE = "fallback: the store holds assignments Apple no longer counts"
NO_TARGET_WARNING = "skipped %d assignment record(s) without serialNumber or clientUserId"

CHANGE_KINDS = ("added", "changed", "removed")


@dataclasses.dataclass(frozen=True)
class SyncOptions:
    """How to sync: ``mode`` (full, incremental, auto), the auto interval, metadata lookups, check mode."""

    mode: str = DEFAULT_MODE
    full_sync_interval_days: int = DEFAULT_FULL_SYNC_INTERVAL_DAYS
    metadata: bool = True
    check_mode: bool = False
    diff: bool = False
    run_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))


# --- pure decisions ----------------------------------------------------------------------------------------------


def choose_mode(requested, token, interval_days, now):
    """``(mode, reason)`` for one token: ``requested`` is full, incremental or auto; ``token`` its store row.

    A delta needs both stored versionIds; ``auto`` is incremental unless no full sync happened within
    ``interval_days`` (or ever).
    """
    has_versions = bool(token.get("assignments_version") and token.get("users_version"))
    if requested == "full":
        return "full", REASON_REQUESTED
    if requested == "incremental":
        return ("incremental", REASON_REQUESTED) if has_versions else ("full", REASON_NO_VERSION)
    last_full = parse_timestamp(token.get("last_full_sync_at"))
    if last_full is None:
        return "full", REASON_NEVER_SYNCED
    if not has_versions:
        return "full", REASON_NO_VERSION
    age = now - last_full
    reason = REASON_AUTO_AGE % max(age // timedelta(days=1), 0)
    return ("full" if age >= timedelta(days=interval_days) else "incremental"), reason


def asset_row(asset):
    """One of Apple's ``ResponseAsset`` (or ``UnlimitedResponseAsset``) as a store asset row."""
    total = asset.get("totalCount")
    unlimited = total == UNLIMITED_TOTAL_COUNT or (total is None and asset.get("availableCount") is None)
    adam_id, pricing_param = apple_asset_key(asset)
    return {
        "adam_id": adam_id,
        "pricing_param": pricing_param,
        "product_type": asset.get("productType"),
        "total_count": total or 0,
        "assigned_count": asset.get("assignedCount") or 0,
        "available_count": asset.get("availableCount") or 0,
        "retired_count": asset.get("retiredCount") or 0,
        "device_assignable": bool(asset.get("deviceAssignable")),
        "revocable": bool(asset.get("revocable")),
        "platforms": list(asset.get("supportedPlatforms") or ()),
        "unlimited": unlimited,
    }


def has_target(assignment):
    """Whether one of Apple's ``Assignment`` names a user or a device (Apple has sent records naming neither)."""
    return apple_target_key(assignment) is not None


def page_assignment_keys(records):
    """``(keys, skipped)`` of one page of checked ``Assignment`` records (``answers.check_page``: the ids are text).

    ``keys`` are ``vocabulary.apple_assignment_key`` of each record naming a target, in order; ``skipped`` counts
    the records naming neither a user nor a device. The same identity, built a page at a time in one loop: a full
    sync of a million assignments spent more of its time in the per-record helpers than in SQLite.
    """
    keys, skipped = [], 0
    append = keys.append
    for record in records:
        get = record.get
        user = get("clientUserId")
        if user:
            append((record["adamId"], get("pricingParam") or DEFAULT_PRICING_PARAM, USER, user))
            continue
        serial = get("serialNumber")
        if serial:  # vocabulary.normalize_serial: upper-case, without surrounding blanks
            append((record["adamId"], get("pricingParam") or DEFAULT_PRICING_PARAM, DEVICE, serial.strip().upper()))
        else:
            skipped += 1
    return keys, skipped


def user_row(user):
    """One of Apple's ``ResponseUser`` as a store user row."""
    return {
        "client_user_id": user["clientUserId"],
        "email": user.get("email"),
        "status": user.get("status"),
        "invite_code": user.get("inviteCode"),
        "id_hash": user.get("idHash"),
    }


def app_label(adam_id, pricing_param, name=None):
    """``Pages (1000000108, STDQ)`` when the catalogue name is known, else ``1000000108 (STDQ)``."""
    return "%s (%s, %s)" % (name, adam_id, pricing_param) if name else "%s (%s)" % (adam_id, pricing_param)


def count_changes(diff, names=None):
    """License count changes per app from ``store.asset_diff()``: added and removed apps included.

    Each change carries the app's catalogue ``name`` from ``names`` (``{adam_id: name}``; None when unknown).
    """
    changes = [_count_change(row, None, row) for row in diff["added"]]
    changes += [_count_change(row, row, None) for row in diff["removed"]]
    for change in diff["changed"]:
        before, after = _counts(change["before"]), _counts(change["after"])
        if before != after:
            changes.append(dict(_count_change(change, change["before"], change["after"]), delta=change["delta"]))
    return name_changes(sorted(changes, key=stored_asset_key), names)


def name_changes(changes, names):
    """The changes with each app's catalogue ``name`` (``names``: ``{adam_id: name}``; None when unknown)."""
    names = names or {}
    return [dict(change, name=names.get(change["adam_id"])) for change in changes]


def _count_change(row, before, after):
    counts = {"before": _counts(before), "after": _counts(after)}
    return dict({"adam_id": row["adam_id"], "pricing_param": row["pricing_param"]}, **counts)


def _counts(row):
    if row is None:
        return None
    return {name: row.get(name) for name in ("total_count", "assigned_count", "available_count", "retired_count")}


def surplus_assignments(assets, stored_counts):
    """Apps whose stored assignments outnumber Apple's ``assignedCount`` (apps Apple dropped count as 0).

    ``assets``: store asset rows from Apple; ``stored_counts``: ``{(adam_id, pricing_param): n}``. Returns
    ``{(adam_id, pricing_param): (stored, apple)}``.
    """
    apple = {stored_asset_key(row): row["assigned_count"] for row in assets}
    return {
        key: (stored, apple.get(key, 0)) for key, stored in sorted(stored_counts.items()) if stored > apple.get(key, 0)
    }


def describe_counts(mismatches, limit=3, names=None):
    """``"Pages (1000000001, STDQ): 3 stored, 2 at Apple; ..."`` for a warning (the first ``limit`` apps).

    ``names``: ``{adam_id: name}`` from the catalogue; an app without one is named by its adamId.
    """
    names = names or {}
    shown = list(mismatches.items())[:limit]
    parts = [
        "%s: %d stored, %d at Apple" % (app_label(key[0], key[1], names.get(key[0])), stored, apple)
        for key, (stored, apple) in shown
    ]
    if len(mismatches) > limit:
        parts.append("%d more" % (len(mismatches) - limit))
    return "; ".join(parts)


def license_picture(assets, assignments, users, names=None):
    """A token's licenses in a form a diff shows well: counts, and per app ``assigned/total`` licenses.

    Apps are named ``Pages (1000000108, STDQ)`` from ``names`` (``{adam_id: name}``), by adamId when unknown.
    """
    names = names or {}
    return {
        "assignments": assignments,
        "users": users,
        "apps": {
            app_label(row["adam_id"], row["pricing_param"], names.get(row["adam_id"])): "%s/%s assigned"
            % (row["assigned_count"], "unlimited" if row["unlimited"] else row["total_count"])
            for row in assets
        },
    }


def task_diff(results):
    """The module's diff: each synchronised token's license picture before and after."""
    done = [result for result in results if result.get("diff")]
    return {
        "before": {result["name"]: result["diff"]["before"] for result in done},
        "after": {result["name"]: result["diff"]["after"] for result in done},
    }


def new_token_result(name):
    """The per-token result before anything happened."""
    return {
        "name": name,
        "status": "failed",
        "mode": None,
        "mode_reason": None,
        "token_status": None,
        "changed": False,
        "assets": dict.fromkeys(CHANGE_KINDS, 0),
        "assignments": dict.fromkeys(CHANGE_KINDS, 0),
        "users": dict.fromkeys(CHANGE_KINDS, 0),
        "license_count_changes": [],
        "facts_changed": [],
        "metadata": {"looked_up": 0, "found": 0},
        "requests": {"total": 0, "by_endpoint": {}},
        "duration": 0.0,
        "warnings": [],
    }


def store_changed(result):
    """Whether a token's sync changed (or, in check mode, would change) the store."""
    return bool(
        any(result[dataset][kind] for dataset in ("assets", "assignments", "users") for kind in CHANGE_KINDS)
        or result["facts_changed"]
        or result["metadata"]["found"]
    )


def summarize(results, duration):
    """Totals over the per-token results."""
    totals = {
        "tokens": len(results),
        "succeeded": sum(1 for result in results if result["status"] == "ok"),
        "failed": sum(1 for result in results if result["status"] != "ok"),
        "license_count_changes": sum(len(result["license_count_changes"]) for result in results),
        "duration": round(duration, 3),
    }
    for dataset in ("assets", "assignments", "users"):
        totals[dataset] = {kind: sum(result[dataset][kind] for result in results) for kind in CHANGE_KINDS}
    by_endpoint = {}
    for result in results:
        for endpoint, count in result["requests"]["by_endpoint"].items():
            by_endpoint[endpoint] = by_endpoint.get(endpoint, 0) + count
    totals["requests"] = {"total": sum(by_endpoint.values()), "by_endpoint": by_endpoint}
    return totals


def failure_message(results):
    """Why the task failed: which tokens, and each one's reason."""
    failed = [result for result in results if result["status"] != "ok"]
    return "%d of %d token(s) failed to sync: %s" % (
        len(failed),
        len(results),
        "; ".join("%s: %s" % (result["name"], result["msg"]) for result in failed),
    )


def validate_options(mode, full_sync_interval_days, parallel):
    """Refuse option values that cannot work, with what to do instead."""
    if mode not in MODES:
        raise ConfigurationError("mode must be one of %s, got %r" % (", ".join(MODES), mode))
    if full_sync_interval_days < 0:
        raise ConfigurationError("full_sync_interval_days must be 0 or more, got %d" % full_sync_interval_days)
    check_parallel(parallel)
