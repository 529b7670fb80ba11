# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deployments: give an application's licenses to a collection of users or devices, take them back, report.

``ensure_deployment`` (``vpp_deployment``) runs one deployment under its token's lock:

1. check the options and the members (nothing is asked of Apple for a bad input);
2. resume: poll the events a previous run submitted and recorded (never resubmit them);
3. read the app's license counts fresh (one ``GET /assets?adamId=``) and plan with ``licensing.plan_deployment``;
   short of licenses -> fail before any write, unless ``allow_partial``; check mode returns the plan here;
4. write the deployment and the members' decided states, register unknown users (waiting for Apple), then
   associate (install) or disassociate (uninstall, reclaimed removed members) in batches; every event id is
   stored with its members *before* waiting on it;
5. wait for the events and record each member's outcome, plus the assignment in the store's synced
   assignments, so that ``assigned`` counts and the next plan are right without a sync.

``list_deployments`` (``vpp_deployment_info``) reads the store only.

This file holds the modules' entry points; the rooms they use: ``members.py`` (who the members are),
``licensing.py`` (the plan), ``deployment_run.py`` (steps 1-3) with its parts ``deployment_writes.py`` (step 4),
``deployment_outcomes.py`` (step 5 and resuming) and ``deployment_results.py``, and ``deployment_views.py``.
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.deployment_outcomes import batch_from_event
from ansible_collections.mdm.vpp.plugins.module_utils.deployment_run import DeploymentRun
from ansible_collections.mdm.vpp.plugins.module_utils.deployment_views import (
    deployment_view,
    describe_short,
    failure_text,
    member_changes,
    member_view,
    predicted_rows,
)
from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError, VPPError
from ansible_collections.mdm.vpp.plugins.module_utils.licensing import check_purpose
from ansible_collections.mdm.vpp.plugins.module_utils.members_file import read_members_file, wanted_members
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import INSTALL

# Names tests read from here (their homes are the rooms above), besides the entry points.
__all__ = [
    "DEFAULT_WAIT_TIMEOUT",
    "batch_from_event",
    "deployment_info",
    "ensure_deployment",
    "forget_deployment",
    "list_deployments",
    "member_changes",
    "predicted_rows",
    "read_members_file",
]

DEFAULT_WAIT_TIMEOUT = 600


class MemberFailuresError(VPPError):
    """Members of a deployment ended ``failed`` (and ``allow_partial`` is not set): the task fails, naming them."""

    default_hint = (
        "fix what each failed member's reason says (failed_members lists them all) and run again: the members done "
        "stay done, a rerun asks Apple only for the others; or set allow_partial: true to accept a partial deployment"
    )


def ensure_deployment(module):
    """``vpp_deployment``: bring deployment ``name`` to ``state``; returns the module result."""
    params = module.params
    if params["state"] == "absent":
        return forget_deployment(module)
    if not params.get("collection"):
        raise ConfigurationError(
            "deployment %r needs a collection" % params["name"],
            hint="give collection with name, type (user or device) and members or members_file",
        )
    check_purpose(params["purpose"])
    members = wanted_members(params["collection"])
    if not members:
        module.warn(no_members_warning(params))
    result = DeploymentRun(module, members).run()
    return checked_outcome(module, params, result)


def no_members_warning(params):
    """Why a deployment without members is probably a mistake, and what it does."""
    collection = params["collection"]
    source = collection.get("members_file")
    where = "members_file %s has no member line" % source if source else "members is empty"
    text = (
        "deployment %r: collection %r has no members (%s): probably a mistake (an empty export, a wrong file or "
        "variable)" % (params["name"], collection["name"], where)
    )
    if params["action"] != INSTALL:
        return text + "; this uninstall deployment takes nothing back and forgets its former members"
    if params["reclaim_removed"]:
        return (
            text + "; with reclaim_removed: true this install deployment takes back the license of every "
            "former member that no other install deployment of the application needs"
        )
    return text + "; nobody gets a license, former members keep theirs (untargeted)"


def checked_outcome(module, params, result):
    """The result, when no member failed; else fail naming the failed members, or with ``allow_partial`` warn."""
    failed = result.get("failed_members") or []
    if not failed:
        return result
    total = result["counts"]["failed_members"]  # failed_members names the first RESULT_MEMBERS
    plan = result.get("plan") or {}
    text = "deployment %r: %s" % (params["name"], failure_text(failed, predicted=module.check_mode, total=total))
    if plan.get("short"):
        text += "; %s" % describe_short(plan)
    if params["allow_partial"]:
        module.warn(text + "; accepted (allow_partial: true)")
        return result
    raise MemberFailuresError(text, details=dict(result, member_failures=total))


def forget_deployment(module):
    """``state: absent``: forget the deployment and its members; licenses stay where they are at Apple."""
    store = module.store
    existing = store.get_deployment(module.params["name"])
    if existing is None:
        return {"changed": False, "deployment": None}
    view = deployment_view(existing, store.count_members(existing["name"]))
    if not module.check_mode:
        with store.token_lock(existing["token"]):
            store.delete_deployment(existing["name"])
    result = {"changed": True, "deployment": view}
    if module.diff_mode:
        result["diff"] = {"before": view, "after": {}}
    return result


def deployment_info(store, row, with_members, page=None):
    """One deployment as ``vpp_deployment_info`` lists it; ``page``: ``member_state``, ``members_offset`` and
    ``members_limit`` (None: every member)."""
    info = deployment_view(row, store.count_members(row["name"]))
    info["pending_events"] = len(store.pending_events(deployment=row["name"]))
    info["install_states"] = store.count_install_states(row["name"])
    info["created_at"] = row["created_at"]
    info["updated_at"] = row["updated_at"]
    if with_members:
        page = page or {}
        limit, offset = page.get("members_limit"), page.get("members_offset") or 0
        # one more than asked tells whether another page follows
        rows = store.list_members(
            row["name"], page.get("member_state"), None if limit is None else limit + 1, offset if limit else 0
        )
        more = limit is not None and len(rows) > limit
        info["member_details"] = [member_view(member) for member in rows[:limit]]
        if limit is not None:
            info["members_next_offset"] = offset + limit if more else None
    return info


def check_page(params):
    """Refuse a members page that cannot be one (a limit below 1, an offset below 0)."""
    if params.get("members_limit") is not None and params["members_limit"] < 1:
        raise ConfigurationError(
            "members_limit must be at least 1, got %d" % params["members_limit"],
            hint="leave it unset to list every member, or give the page size",
        )
    if (params.get("members_offset") or 0) < 0:
        raise ConfigurationError(
            "members_offset must be 0 or more, got %d" % params["members_offset"],
            hint="give the members_next_offset of the previous page",
        )


def list_deployments(module):
    """``vpp_deployment_info``: deployments filtered by name, application and token; members on request, by page."""
    params, store = module.params, module.store
    check_page(params)
    rows = store.list_deployments(application=params["application"])
    if params["name"] is not None:
        rows = [row for row in rows if row["name"] == params["name"]]
    if params["token"] is not None:
        rows = [row for row in rows if row["token"] == params["token"]]
    with_members = params["members"] or params["name"] is not None or params.get("members_limit") is not None
    return {"changed": False, "deployments": [deployment_info(store, row, with_members, params) for row in rows]}
