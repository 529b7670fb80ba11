# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure decisions of ``vpp_app``: which app a task means, an application's name and view, what refuses a change.

An application's identity is token + adamId + pricingParam (the same app licensed through two tokens is two
applications), and its name is unique. No store, no client: ``apps.py`` orchestrates these.
"""

from __future__ import annotations

import difflib

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import DEFAULT_PRICING_PARAM

APPLICATION_FIELDS = ("name", "token", "adam_id", "pricing_param", "description", "categories")
MAX_CANDIDATES_SHOWN = 10


# --- pure helpers: which app a vpp_app task means ------------------------------------------------------------------


def default_pricing_param(known):
    """The token's only pricing param for an adamId, else ``STDQ``."""
    known = sorted(set(known))
    return known[0] if len(known) == 1 else DEFAULT_PRICING_PARAM


def default_application_name(app_name, adam_id, token):
    """``"<app name from metadata, else adamId> (<token name>)"``: the same app through two tokens gets two names."""
    return "%s (%s)" % (app_name or adam_id, token)


def describe_asset(row):
    """``"Pages" (adamId 1000000001, STDQ)`` for messages."""
    label = '"%s" ' % row["name"] if row.get("name") else ""
    return "%s(adamId %s, %s)" % (label, row["adam_id"], row["pricing_param"])


def describe_candidates(rows, limit=MAX_CANDIDATES_SHOWN):
    shown = [describe_asset(row) for row in rows[:limit]]
    if len(rows) > limit:
        shown.append("%d more" % (len(rows) - limit))
    return ", ".join(shown)


def pick_by_name(token, app_name, rows):
    """The one asset of ``rows`` (a token's apps) named ``app_name`` (case-insensitive), else a clear error."""
    wanted = app_name.casefold()
    matches = [row for row in rows if (row["name"] or "").casefold() == wanted]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ConfigurationError(
            "app name %r is ambiguous in token %r: %s" % (app_name, token, describe_candidates(matches)),
            hint="give adam_id (and pricing_param) instead of app_name",
        )
    names = {row["name"]: row for row in rows if row["name"]}
    close = [names[name] for name in difflib.get_close_matches(app_name, list(names), n=MAX_CANDIDATES_SHOWN)]
    raise ConfigurationError(
        "token %r licenses no app named %r%s"
        % (token, app_name, "; similar names: %s" % describe_candidates(close) if close else ""),
        hint="check the name (mdm.vpp.vpp_app_info lists the token's apps) or give adam_id; run mdm.vpp.vpp_sync "
        "for token %s if the app was bought recently" % token,
    )


def not_licensed_error(token, adam_id, pricing_param, other_params, never_synced):
    """Why an application cannot be made from an asset the token does not license, and what to do."""
    reason = "it is not among the apps synced for that token"
    if other_params:
        reason = "the token licenses it only as %s" % ", ".join(sorted(other_params))
    elif never_synced:
        reason = "the token was never synchronised"
    return ConfigurationError(
        "token %r does not license app %s (%s): %s" % (token, adam_id, pricing_param, reason),
        hint="run mdm.vpp.vpp_sync for token %s (a recent purchase appears after a sync), or check the adamId%s"
        % (token, " and pricing_param" if other_params else ""),
    )


# --- pure helpers: what changes ------------------------------------------------------------------------------------


def desired_application(params, existing, default_name):
    """The application fields the task asks for; ``name`` keeps the current name unless a new one is given."""
    desired = {"name": params.get("name") or (existing["name"] if existing else default_name)}
    if params.get("description") is not None:
        desired["description"] = params["description"]
    if params.get("categories") is not None:
        desired["categories"] = list(params["categories"])
    return desired


def application_view(row):
    """What a user may know about an application (a store row): identity, name, description, categories."""
    if row is None:
        return {}
    view = {name: row.get(name) for name in APPLICATION_FIELDS}
    view["categories"] = list(row.get("categories") or [])
    return view


def application_facts(row):
    """An application's facts in results: its view plus when it was created and last changed."""
    if row is None:
        return None
    return dict(application_view(row), created_at=row.get("created_at"), updated_at=row.get("updated_at"))


def check_name_free(name, holder, identity):
    """Refuse a name that another application (another token + adamId + pricingParam) already has."""
    if holder is None or (holder["token"], holder["adam_id"], holder["pricing_param"]) == identity:
        return
    raise ConfigurationError(
        "the application name %r is already used by the application of app %s (%s) of token %r"
        % (name, holder["adam_id"], holder["pricing_param"], holder["token"]),
        hint="give this application another name",
    )


def deployments_block_removal(application, deployments):
    """The refusal to remove an application that still has deployments (without ``force``)."""
    names = [deployment["name"] for deployment in deployments]
    return ConfigurationError(
        "application %r has %d deployment(s): %s" % (application, len(names), ", ".join(names)),
        hint="remove its deployments first (mdm.vpp.vpp_deployment with state: absent), or set force: true to "
        "forget them with the application (no license is reclaimed at Apple)",
    )
