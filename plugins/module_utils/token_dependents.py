# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure decisions of deleting a token: what depends on it, the refusal without ``force``, what a forced delete
leaves behind at Apple, and the diff that names what goes.

``dependents`` is ``store.token_dependents()``: the token's applications, their deployments with member counts, and
how many synced assets it has. ``tokens.py`` runs these for ``vpp_token state=absent``; no store, no client here.
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError

# How many applications or deployments a message names before it says "and N more".
MAX_SHOWN = 5
NO_DEPENDENTS = {"applications": [], "deployments": [], "assets": 0}


def capped(texts, limit=MAX_SHOWN):
    """``"a, b, c and 2 more"``: the first ``limit`` texts, then how many were left out."""
    texts = list(texts)
    shown = ", ".join(texts[:limit])
    return "%s and %d more" % (shown, len(texts) - limit) if len(texts) > limit else shown


def describe_deployment(deployment):
    """``pages-ipads (install of pages, 3 member(s), 2 licensed)`` for messages."""
    return "%s (%s of %s, %d member(s), %d licensed)" % (
        deployment["name"],
        deployment["action"],
        deployment["application"],
        deployment["members"],
        deployment["licensed"],
    )


def removal_view(dependents):
    """What deleting the token takes along, as results and diffs show it (names and counts, never a secret)."""
    dependents = dependents or NO_DEPENDENTS
    return {
        "applications": list(dependents["applications"]),
        "deployments": [
            {name: deployment[name] for name in ("name", "application", "action", "members", "licensed")}
            for deployment in dependents["deployments"]
        ],
        "synced_assets": dependents["assets"],
    }


def has_dependents(dependents):
    """Whether applications (and so maybe deployments) would be deleted with the token."""
    return bool(dependents and (dependents["applications"] or dependents["deployments"]))


def what_depends(dependents):
    """``2 application(s) (keynote, pages) and 1 deployment(s) (pages-ipads (...))`` for messages."""
    parts = ["%d application(s) (%s)" % (len(dependents["applications"]), capped(dependents["applications"]))]
    if dependents["deployments"]:
        described = [describe_deployment(deployment) for deployment in dependents["deployments"]]
        parts.append("%d deployment(s) (%s)" % (len(described), capped(described)))
    return " and ".join(parts)


def licenses_left_behind(revoke_on_delete):
    """What a forced delete does to the licenses the deployments' members hold at Apple."""
    if revoke_on_delete:
        return "revoke_on_delete takes every revocable license of the location back at Apple; books stay assigned"
    return (
        "no license is reclaimed: the licenses their members hold stay assigned at Apple unless revoke_on_delete: true"
    )


def removal_refusal(name, dependents, force, revoke_on_delete):
    """The refusal to delete token ``name`` while applications or deployments depend on it (without ``force``)."""
    if force or not has_dependents(dependents):
        return None
    return ConfigurationError(
        "token %r is used by %s: deleting it would delete them too" % (name, what_depends(dependents)),
        hint="reclaim their licenses first with an uninstall deployment (mdm.vpp.vpp_deployment with action: "
        "uninstall), then remove the deployments and applications (state: absent); or set force: true to delete "
        "them with the token (%s)" % licenses_left_behind(revoke_on_delete),
    )


def forced_removal_warning(name, dependents, check_mode, revoke_on_delete):
    """The warning of a forced delete that takes applications and deployments along; None when nothing depends."""
    if not has_dependents(dependents):
        return None
    return "%s %s with token %r: %s" % (
        "would delete" if check_mode else "deleted",
        what_depends(dependents),
        name,
        licenses_left_behind(revoke_on_delete),
    )


def removal_diff(facts, dependents):
    """The diff of a delete: the token's facts and everything that goes with it before, nothing after."""
    return {"before": dict(facts, **removal_view(dependents)), "after": {}}
