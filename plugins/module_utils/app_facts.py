# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure facts of licensed apps (``vpp_app_info``, ``vpp_app``): the app row, the low-license threshold, filters,
who holds the licenses.

Also the JMESPath ``query`` (compiled before any work, applied to the list of apps). No store, no client.
"""

from __future__ import annotations

import fnmatch
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError

try:
    import jmespath

    HAS_JMESPATH = True
    JMESPATH_IMPORT_ERROR = None
except ImportError:
    HAS_JMESPATH = False
    JMESPATH_IMPORT_ERROR = traceback.format_exc()

APP_FIELDS = (
    "name",
    "adam_id",
    "pricing_param",
    "bundle_id",
    "version",
    "icon_url",
    "token",
    "token_type",
    "product_type",
    "platforms",
    "device_assignable",
    "revocable",
    "unlimited",
    "total",
    "assigned",
    "available",
    "retired",
    "deployed",
    "installed",
    "untracked",
    "application",
    "percent_used",
    "low",
)


# --- pure helpers: license counts ---------------------------------------------------------------------------------


def parse_threshold(value):
    """``low_license_threshold`` as ``(amount, is_percent)``: ``5`` -> ``(5.0, False)``, ``"10%"`` -> ``(10.0, True)``.

    None (no threshold) stays None. Refuses negative numbers, percentages above 100 and anything else.
    """
    if value is None:
        return None
    text = str(value).strip()
    is_percent = text.endswith("%")
    number = text[:-1].strip() if is_percent else text
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        amount = float(number)
    except ValueError:
        raise ConfigurationError(
            'low_license_threshold must be a number of licenses (5) or a percentage of the total ("10%%"), got %r'
            % (value,)
        ) from None
    if amount < 0 or (is_percent and amount > 100):
        raise ConfigurationError(
            "low_license_threshold %r is out of range: give 0 or more licenses, or 0%% to 100%% of the total" % (value,)
        )
    return amount, is_percent


def is_low(available, total, unlimited, threshold):
    """Whether an asset's available licenses are below ``threshold`` (from ``parse_threshold``).

    A percentage is of the asset's total. Unlimited (free) assets are never low; an asset with no license left is
    low for any threshold above 0, even when its total is 0.
    """
    if threshold is None or unlimited:
        return False
    amount, is_percent = threshold
    if amount <= 0:
        return False
    limit = total * amount / 100.0 if is_percent else amount
    return available < limit or available <= 0


def untracked_count(assigned, deployed):
    """Licenses assigned at Apple that no deployment of this collection accounts for (never below 0).

    Assigned by another tool, by hand in Apple's portal, by a deployment whose record was lost (a store restored
    from an older backup), or by a deployment that was forgotten (``state: absent``) without reclaiming.
    """
    return max((assigned or 0) - (deployed or 0), 0)


def percent_used(assigned, total):
    """Share of the licenses assigned, in percent with one decimal (0.0 when there are none)."""
    return round(100.0 * assigned / total, 1) if total else 0.0


def app_facts(row, threshold=None):
    """A row of ``store.iter_licensed_assets()`` as an app of ``vpp_app_info`` (``vpp_app`` returns the same)."""
    total, available = row["total_count"], row["available_count"]
    return {
        "name": row["name"],
        "adam_id": row["adam_id"],
        "pricing_param": row["pricing_param"],
        "bundle_id": row["bundle_id"],
        "version": row["version"],
        "icon_url": row["icon_url"],
        "token": row["token"],
        "token_type": row["token_type"],
        "product_type": row["product_type"],
        "platforms": list(row["platforms"] or ()),
        "device_assignable": bool(row["device_assignable"]),
        "revocable": bool(row["revocable"]),
        "unlimited": bool(row["unlimited"]),
        "total": total,
        "assigned": row["assigned_count"],
        "available": available,
        "retired": row["retired_count"],
        "deployed": row["deployed"],
        "installed": row.get("installed") or 0,
        "untracked": untracked_count(row["assigned_count"], row["deployed"]),
        "application": row["application"],
        "percent_used": percent_used(row["assigned_count"], total),
        "low": is_low(available, total, row["unlimited"], threshold),
    }


# --- pure helpers: who holds the licenses ----------------------------------------------------------------------------


def check_holders_limit(value):
    """``holders_limit`` as an int: 0 or more holders listed per app (0 lists none, only their number)."""
    if value < 0:
        raise ConfigurationError(
            "holders_limit must be 0 or more holders per app, got %d" % value,
            hint="the default, 1000, keeps a listing of many apps small; holders_total counts them all",
        )
    return value


def holder_view(row):
    """A row of ``store.iter_license_holders()`` as a holder: kind, id, the deployment that gave it, tracked."""
    return {
        "kind": row["target_kind"],
        "id": row["target_id"],
        "deployment": row["deployment"],
        "tracked": row["deployment"] is not None,
    }


def group_holders(rows):
    """``{(token, adam_id, pricing_param): (holders, total)}`` of the rows of ``store.iter_license_holders()``."""
    grouped = {}
    for row in rows:
        key = (row["token"], row["adam_id"], row["pricing_param"])
        holders, _total = grouped.setdefault(key, ([], row["holders_total"]))
        holders.append(holder_view(row))
    return grouped


def with_holders(app, grouped):
    """The app with ``holders`` (at most the limit), ``holders_total`` and ``holders_truncated`` from ``grouped``."""
    holders, total = grouped.get((app["token"], app["adam_id"], app["pricing_param"]), ([], 0))
    return dict(app, holders=holders, holders_total=total, holders_truncated=len(holders) < total)


# --- pure helpers: filters and queries ------------------------------------------------------------------------------


def name_matches(app, pattern):
    """Shell-style, case-insensitive match of ``pattern`` on the app's name or its bundle id."""
    pattern = pattern.lower()
    return any(value and fnmatch.fnmatchcase(value.lower(), pattern) for value in (app["name"], app["bundle_id"]))


def platform_matches(app, platform):
    """Whether the app runs on ``platform`` (case-insensitive: ``ios`` finds ``iOS``)."""
    return platform.lower() in (name.lower() for name in app["platforms"])


def app_filter(name=None, platform=None):
    """A predicate for the filters the store query cannot apply (name pattern, platform)."""

    def keep(app):
        if name is not None and not name_matches(app, name):
            return False
        return platform is None or platform_matches(app, platform)

    return keep


def compile_query(expression):
    """The compiled JMESPath ``query`` (None when not given); refuses a malformed one before any work."""
    if expression is None:
        return None
    if not HAS_JMESPATH:
        raise ConfigurationError(missing_required_lib("jmespath"), details={"exception": JMESPATH_IMPORT_ERROR})
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as err:
        raise ConfigurationError(
            "query %r is not a valid JMESPath expression: %s" % (expression, err),
            hint="see https://jmespath.org/specification.html; the expression applies to the list of apps",
        ) from None


def apply_query(compiled, apps):
    """``apps`` shaped by the compiled query (the list itself when there is none)."""
    if compiled is None:
        return apps
    try:
        return compiled.search(apps)
    except jmespath.exceptions.JMESPathError as err:
        raise ConfigurationError(
            "query %r failed on the list of apps: %s" % (compiled.expression, err),
            hint="check the field names and types the query uses (see the apps result of vpp_app_info)",
        ) from None
