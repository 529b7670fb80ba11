# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deployments as results, diffs and messages show them: pure views of store rows and plans (no HTTP, no SQL).

The member rows a plan writes before any call and the rows it predicts (check mode, diffs) are computed here too:
both are what a person sees of the plan in the store.
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.licensing import PLAN_LISTS
from ansible_collections.mdm.vpp.plugins.module_utils.member_list import EntryList, MemberList
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import INSTALL, MEMBER_STATES

DEPLOYMENT_FIELDS = ("application", "token", "adam_id", "pricing_param", "action", "purpose", "license_type")
DIFF_EXAMPLES = 20  # members of each kind of change a diff names
FAILURE_EXAMPLES = 5  # failed members a message names
PLAN_EXAMPLES = 10  # entries of each per-member list a refusal shows
# Members each list of a vpp_deployment result names at most (licensed, reclaimed, failed_members, pending...):
# the result counts every member (``counts``) and says how many each list leaves out (``left_out``), so its size does
# not grow with the collection; vpp_deployment_info pages through every member.
RESULT_MEMBERS = 100


class Tally:
    """Members of one kind in a result: how many, and the first ``RESULT_MEMBERS`` of them (ids or entries)."""

    def __init__(self, bound=RESULT_MEMBERS):
        self.count = 0
        self.first = []
        self.bound = bound

    def add(self, items, count=None):
        """Count ``items`` (or ``count`` of them, when the caller knows better), keeping the first ones."""
        items = list(items)
        room = self.bound - len(self.first)
        if room > 0:
            self.first.extend(items[:room])
        self.count += len(items) if count is None else count

    @property
    def left_out(self):
        return max(self.count - len(self.first), 0)


def bounded(items, bound=RESULT_MEMBERS):
    """A ``Tally`` of a list or any iterable (consumed once)."""
    tally = Tally(bound)
    for item in items:
        tally.count += 1
        if len(tally.first) < bound:
            tally.first.append(item)
    return tally


def former_member_states(action):
    """States of the rows an install or uninstall deployment keeps of members that left its collection."""
    return ("untargeted", "reclaimed") if action == INSTALL else ("untargeted",)


def deployment_view(row, counts):
    """A deployment as results and diffs show it: identity, collection, license type, member counts by state.

    ``members`` counts the collection's members; the rows kept of former members (``untargeted``, and the
    ``reclaimed`` ones of an install deployment) are counted in ``states`` only."""
    if row is None:
        return {}
    view = {name: row.get(name) for name in DEPLOYMENT_FIELDS}
    view["name"] = row["name"]
    view["collection"] = {"name": row["collection_name"], "type": row["collection_type"]}
    former = former_member_states(row.get("action"))
    view["members"] = sum(count for state, count in counts.items() if state not in former)
    view["states"] = dict(counts)
    return view


def _named(ids, examples=DIFF_EXAMPLES):
    return {"count": len(ids), "first": ids[:examples]}


def membership_changes(plan, stored, members):
    """Who gains and who loses a license in ``plan``, who joins and who leaves the collection: member ids (the
    first ``DIFF_EXAMPLES`` of each) with counts, for diffs. Pure."""
    wanted = {member["member_id"] for member in members}
    former = former_member_states(plan["action"])
    current = {member_id for member_id, row in stored.items() if row.get("state") not in former}
    return {
        "gaining_license": _named([entry["member_id"] for entry in plan["to_license"]]),
        "losing_license": _named([entry["member_id"] for entry in plan["to_reclaim"]]),
        "added": _named([member["member_id"] for member in members if member["member_id"] not in current]),
        "removed": _named(sorted(current - wanted)),
    }


def deployment_diff(before, after, changes, app):
    """The diff of a run: the deployment before and after, the app by name and adamId, and the members whose
    license or membership changes, named (capped) under ``members`` in ``after``, with counts."""
    named = {key: value for key, value in changes.items() if value["count"]}
    after = dict(after, app=app)
    if named:
        after["member_changes"] = named
    return {"before": dict(before, app=app) if before else {}, "after": after, "members": changes}


def failure_text(failed, predicted=False, examples=FAILURE_EXAMPLES, total=None):
    """``n member(s) ended failed: id (reason), ...``: the first ``examples`` failed members with their reasons
    (``predicted``: check mode's "would end failed"; ``total``: how many failed, when ``failed`` lists the first)."""
    shown = []
    for entry in failed[:examples]:
        reason = entry.get("error_message") or "no reason given"
        if entry.get("error_number") is not None:
            reason = "error %s: %s" % (entry["error_number"], reason)
        shown.append("%s (%s)" % (entry["member_id"], reason))
    total = len(failed) if total is None else total
    more = total - len(shown)
    verb = "would end" if predicted else "ended"
    listed = ", ".join(shown) + (", and %d more" % more if more else "")
    return "%d member(s) %s failed: %s" % (total, verb, listed)


def member_view(row):
    """One member's detail in results: id, device user, license type, state, Apple's error, event, last change."""
    return {
        "id": row["member_id"],
        "device_user": row.get("device_user"),
        "license_type": row.get("license_type"),
        "state": row["state"],
        "error_number": row.get("error_number"),
        "error_message": row.get("error_message"),
        "event_id": row.get("event_id"),
        "enrollment_id": row.get("enrollment_id"),
        "install_state": row.get("install_state"),
        "command_uuid": row.get("command_uuid"),
        "install_error": row.get("install_error"),
        "updated": row.get("updated_at"),
    }


def _predicted_outcomes(plan, wait):
    """``(plan list, the state its members get)``: what carrying out the plan does to the members' states."""
    install = plan["action"] == INSTALL
    return (
        ("already", "licensed" if install else "reclaimed"),
        ("to_license", "licensed" if wait else "pending"),
        ("to_reclaim", "reclaimed" if wait else "pending"),
        ("failed", "failed"),
        ("untargeted", "untargeted"),
    )


def predicted_rows(plan, stored, members, wait):
    """The member rows the store would hold after carrying out ``plan`` (check mode with an MDM, diffs)."""
    rows = {member_id: dict(row) for member_id, row in stored.items()}
    for member in members:
        rows.setdefault(member["member_id"], {"member_id": member["member_id"], "state": "pending"})
    for key, state in _predicted_outcomes(plan, wait):
        for entry in plan[key]:
            rows[entry["member_id"]]["state"] = state
    for entry in plan["forgotten"]:
        rows.pop(entry["member_id"], None)
    return list(rows.values())


def member_changes(plan, stored, members):
    """Member rows to write before any call: new members, changed details, and the states the plan decided."""
    return list(iter_member_changes(plan, stored, members))


def iter_member_changes(plan, stored, members):
    """``member_changes`` one row at a time (written in chunks, never all held: B5M)."""
    install = plan["action"] == INSTALL
    decided = {}
    settled = {"state": "licensed" if install else "reclaimed", "error_number": None, "error_message": None}
    already = plan["already"]
    if isinstance(already, EntryList) and already.members is members and not already.extra:
        settled_marks = bytearray(len(members))  # a byte a member, no dict of the ids: a rerun at 1,000,000 members
        for index in already.indexes:
            settled_marks[index] = 1
    else:
        settled_marks = None
        for entry in already:
            decided[entry["member_id"]] = settled  # one dict shared, read only
    for entry in plan["failed"]:
        decided[entry["member_id"]] = {
            "state": "failed",
            "error_number": entry["error_number"],
            "error_message": entry["error_message"],
        }
    for entry in plan["untargeted"]:
        decided[entry["member_id"]] = {"state": "untargeted"}
    license_type = plan["license_type"]
    for index, member in enumerate(members):
        decision = settled if settled_marks is not None and settled_marks[index] else decided.get(member["member_id"])
        wanted = dict({"device_user": member["device_user"], "license_type": license_type}, **(decision or {}))
        if member.get("enrollment_id"):  # kept when the task does not say (a lookup may have found it)
            wanted["enrollment_id"] = member["enrollment_id"]
        current = stored.get(member["member_id"])
        if current is None or any(current.get(field) != value for field, value in wanted.items()):
            wanted["member_id"] = member["member_id"]
            yield wanted
    # removed members keep their license: they stay listed, untargeted
    yield from ({"member_id": entry["member_id"], "state": "untargeted"} for entry in plan["untargeted"])


def command_view(entries, requests=None):
    """One MDM command of a run: how many members, the first ``DIFF_EXAMPLES`` of them, in how many requests."""
    member_ids = sorted(entry if isinstance(entry, str) else entry["member_id"] for entry in entries)
    return {"members": len(member_ids), "first": member_ids[:DIFF_EXAMPLES], "requests": requests}


def mdm_commands(mdm):
    """The MDM commands of a run for a diff: members and requests of each, from what went (``sent`` lists) or
    what would go (a prediction's ``install``/``remove``)."""
    if "install" in mdm:
        install, remove = mdm["install"], mdm["remove"]
    else:  # what went: the first RESULT_MEMBERS of each list, with counts
        install, remove = command_view(mdm["sent"]), command_view(mdm["removal_sent"])
        install["members"], remove["members"] = mdm["counts"]["sent"], mdm["counts"]["removal_sent"]
    via = mdm["install_via"]
    return {
        "install_via": via,
        ("InstallApplication" if via == "command" else "declaration set (add)"): install,
        ("RemoveApplication" if via == "command" else "declaration set (remove)"): remove,
        "awaiting_removal": mdm["awaiting_removal"] if "install" in mdm else mdm["counts"]["awaiting_removal"],
    }


def describe_short(plan):
    """The shortage of a plan in one sentence: needed, available, the app, how many short."""
    return "not enough licenses: %d needed, %d available (app %s), short of %d" % (
        plan["needed"],
        plan["available"],
        plan.get("app", "?"),
        plan["short"],
    )


# --- plans and outcomes ----------------------------------------------------------------------------------------


def plan_summary(plan):
    """The plan without per-member lists: counts a person reads at a glance."""
    summary = {key: plan[key] for key in ("action", "license_type", "members", "needed", "available", "short")}
    for key in PLAN_LISTS:
        summary[key] = len(plan[key])
    summary["batches"] = dict(plan["batches"])
    return summary


def plan_excerpt(plan, examples=PLAN_EXAMPLES):
    """The plan with each per-member list cut to its first ``examples`` entries, plus ``counts`` of every list:
    what a refusal returns, bounded whatever the number of members."""
    excerpt = {key: value for key, value in plan.items() if key not in PLAN_LISTS}
    for key in PLAN_LISTS:
        excerpt[key] = plan[key][:examples]
    excerpt["counts"] = {key: len(plan[key]) for key in PLAN_LISTS}
    excerpt["truncated"] = any(len(plan[key]) > examples for key in PLAN_LISTS)
    return excerpt


def plan_writes(plan):
    """Whether carrying out the plan changes anything (at Apple or in the store's member states)."""
    return bool(
        plan["to_license"] or plan["to_reclaim"] or plan["to_register"] or plan["untargeted"] or plan["forgotten"]
    )


def invitation_url(template, invite_code):
    """The link a Registered user follows to accept the invitation (Apple's ``urls.invitationEmail``)."""
    if not template or not invite_code:
        return None
    return template.replace("%25inviteCode%25", invite_code).replace("%inviteCode%", invite_code)


def member_states(rows):
    """``{state: count}`` over member rows (every state present, zeros included)."""
    counts = dict.fromkeys(MEMBER_STATES, 0)
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    return counts


def predicted_states(plan, stored, members, wait):
    """``member_states(predicted_rows(...))`` counted without building a row a member (check mode at 1,000,000
    members). The plan's lists are disjoint (each member is decided once), so each entry moves one member from its
    stored state (``pending`` when new) to the state its list gives."""
    counts = dict.fromkeys(MEMBER_STATES, 0)
    for row in stored.values():
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    member_ids = members.ids if isinstance(members, MemberList) else (member["member_id"] for member in members)
    counts["pending"] += sum(1 for member_id in member_ids if member_id not in stored)

    def former(member_id):
        row = stored.get(member_id)
        return row["state"] if row is not None else "pending"

    for key, state in _predicted_outcomes(plan, wait):
        for entry in plan[key]:
            counts[former(entry["member_id"])] -= 1
            counts[state] += 1
    for entry in plan["forgotten"]:
        if entry["member_id"] in stored:
            counts[former(entry["member_id"])] -= 1
    return counts
