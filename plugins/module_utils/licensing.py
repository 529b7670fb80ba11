# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""License decisions of deployments, as pure functions: no HTTP, no SQL.

- which license type a deployment claims (the table of docs/modules/vpp_deployment.md, from Configuration Manager);
- the plan of a run: which members already hold a license, which need one, whether there are enough, who must be
  registered at Apple first, which removed members keep or give back their license, and how many calls it takes.

Who the members are (the ``members`` option, a members file) is ``members.py``'s job; ``deployments.py`` feeds
these functions with what the store and Apple say and carries the plan out.
"""

from __future__ import annotations

from array import array

from ansible_collections.mdm.vpp.plugins.module_utils.batches import batch_count, call_count
from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.member_list import (
    EntryList,
    MemberList,
    StoredMembers,
    member_entry,
)
from ansible_collections.mdm.vpp.plugins.module_utils.members import MAX_LINE_BYTES, parse_members
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import (
    ACTIVE_USER_STATUSES,
    AVAILABLE,
    BOOK,
    COLLECTION_TYPES,
    DEVICE,
    INSTALL,
    UNINSTALL,
    USER,
    target_key,
)

# The public names of this room; MAX_LINE_BYTES, parse_members and batch_count are read from here by tests
# (their homes are members.py and batches.py).
__all__ = [
    "MAX_LINE_BYTES",
    "NOT_ENOUGH_LICENSES",
    "NOT_REVOCABLE",
    "PLAN_LISTS",
    "REASON_NOT_ENOUGH",
    "REASON_NOT_REVOCABLE",
    "REASON_NO_DEVICE_USER",
    "USER_ALREADY_EXISTS",
    "batch_count",
    "check_purpose",
    "check_unchanged",
    "creation_succeeded",
    "license_type_for",
    "new_plan",
    "parse_members",
    "plan_deployment",
    "short_of_licenses",
    "target_of",
]

PLAN_LISTS = ("already", "awaiting", "to_license", "to_reclaim", "to_register", "untargeted", "forgotten", "failed")

# Apple's asynchronous error numbers this module predicts or reports itself.
NOT_ENOUGH_LICENSES = 9709
NOT_REVOCABLE = 9706
USER_ALREADY_EXISTS = 9716

REASON_NOT_ENOUGH = "not enough licenses available: %d needed, %d available"
REASON_NO_DEVICE_USER = (
    "device %s has no user, and this app cannot be licensed to a device: give the member as {serial, user}"
)
REASON_NOT_REVOCABLE = "the licenses of this %s cannot be taken back (Apple marks it not revocable)"


# --- license type --------------------------------------------------------------------------------------------


def license_type_for(collection_type, device_assignable, product_type=None):
    """The license a deployment claims, by the table of docs/modules/vpp_deployment.md (Configuration Manager's).

    | app supports device licenses | collection | license claimed |
    | yes / no                     | user       | user            |
    | yes                          | device     | device (serial) |
    | no                           | device     | user (the device's user) |

    Books are user-only: a book to a device collection is refused.
    """
    if collection_type not in COLLECTION_TYPES:
        raise ConfigurationError("collection type must be user or device, got %r" % (collection_type,))
    if collection_type == USER:
        return USER
    if product_type == BOOK:
        raise ConfigurationError(
            "books can only be deployed to user collections: Apple licenses a book to a person, never to a device",
            hint="deploy the book to a user collection",
        )
    return DEVICE if device_assignable else USER


def check_purpose(purpose):
    if purpose == AVAILABLE:
        raise ConfigurationError(
            "available installs are not supported; use required",
            hint="set purpose: required (users cannot pick licensed apps themselves in this collection)",
        )


def check_unchanged(deployment, wanted):
    """Refuse changing what identifies an existing deployment: its action, application and collection type."""
    if deployment["action"] != wanted["action"]:
        raise ConfigurationError(
            "deployment %r is an %s deployment; its action never changes: create a separate deployment with "
            "action uninstall" % (deployment["name"], deployment["action"])
            if wanted["action"] == UNINSTALL
            else "deployment %r is an uninstall deployment; its action never changes: create a separate deployment "
            "with action install" % deployment["name"],
        )
    if deployment["application"] != wanted["application"]:
        raise ConfigurationError(
            "deployment %r deploys application %r, not %r; a deployment's application never changes"
            % (deployment["name"], deployment["application"], wanted["application"]),
            hint="create a separate deployment for the other application",
        )
    if deployment["collection_type"] != wanted["collection_type"]:
        raise ConfigurationError(
            "deployment %r targets a %s collection, not a %s collection; the collection type never changes"
            % (deployment["name"], deployment["collection_type"], wanted["collection_type"]),
            hint="create a separate deployment for the other collection",
        )


# --- the plan ----------------------------------------------------------------------------------------------------


def target_of(member, license_type, collection_type):
    """``(kind, id)`` whose license serves a member: its serial (device license), its device's user (user license
    for a device collection; None when the device has no user) or the member itself (user collection)."""
    if license_type == DEVICE:
        kind, serial = target_key(DEVICE, member["member_id"])
        return kind, member["member_id"] if serial == member["member_id"] else serial  # one string, not two
    if collection_type == DEVICE:
        return target_key(USER, member["device_user"]) if member.get("device_user") else None
    return target_key(USER, member["member_id"])


def _user_request(member, collection_type):
    """The RequestUser to register a member's user (client user id, plus email and managed Apple ID if known)."""
    if collection_type == DEVICE:
        return {"client_user_id": member["device_user"]}
    request = {"client_user_id": member["member_id"]}
    for field in ("email", "managed_apple_id"):
        if member.get(field):
            request[field] = member[field]
    return request


def new_plan(action, license_type, collection_type, members, asset):
    """An empty plan; its lists of members' entries are ``EntryList``s over ``members`` (4 bytes a member)."""
    available = None if asset.get("unlimited") else asset.get("available_count", 0)

    def target(member):
        return target_of(member, license_type, collection_type)

    own = license_type == DEVICE or collection_type == USER  # each member its own target

    return {
        "action": action,
        "license_type": license_type,
        "collection_type": collection_type,
        "members": len(members),
        "available": available,
        "needed": 0,
        "short": 0,
        # members whose target already holds (install) or no longer holds (uninstall) a license
        "already": EntryList(members, license_type, target, own),
        "awaiting": EntryList(members, license_type, target, own),  # members waiting on a submitted event
        "to_license": EntryList(members, license_type, target, own),
        "to_reclaim": EntryList(members, license_type, target, own),
        "to_register": [],
        "untargeted": [],
        "forgotten": [],  # removed members holding no license (or of an uninstall deployment): dropped
        "failed": [],
        "batches": {},
    }


def _failure(member, license_type, target, error_number, reason):
    return dict(member_entry(member, license_type, target), error_number=error_number, error_message=reason)


def plan_deployment(members, stored, holders, known_users, asset, options, limits):
    """What one run of a deployment does; pure.

    - ``members``: the wanted members (``parse_members``), in order;
    - ``stored``: ``{member_id: member row}`` of the deployment in the store (``state``, ``event_id``...);
    - ``holders``: set of ``(kind, id)`` holding a license of the asset (the store's synced assignments);
    - ``known_users``: ``{client_user_id: status}`` of the token's users in the store;
    - ``asset``: the app's facts read fresh (``available_count``, ``unlimited``, ``revocable``, ``product_type``);
    - ``options``: ``action``, ``license_type``, ``collection_type``, ``allow_partial``, ``reclaim_removed`` and
      ``served_elsewhere`` (targets other install deployments of the app hold or are being given: never reclaimed);
    - ``limits``: Apple's limits (batch sizes).

    Returns the plan: ``already``, ``awaiting``, ``to_license``, ``to_reclaim``, ``to_register``, ``untargeted``,
    ``forgotten``, ``failed`` (entries with ``member_id``, ``license_type``, ``target_id``), ``needed`` (distinct
    licenses to claim), ``available`` (None when unlimited), ``short`` and the ``batches`` each call takes.
    """
    action, license_type, collection_type = options["action"], options["license_type"], options["collection_type"]
    plan = new_plan(action, license_type, collection_type, members, asset)
    if action == INSTALL:
        _plan_install(plan, members, stored, holders, known_users, options)
    else:
        _plan_uninstall(plan, members, stored, holders, asset)
    if stored:  # members that left the collection: none in a new deployment
        _plan_removed(plan, members, stored, _left_members(stored, members), holders, options)
    plan["batches"] = _batches(plan, limits)
    return plan


def _is_awaiting(row):
    return row is not None and row.get("state") == "pending" and row.get("event_id")


def _plan_install(plan, members, stored, holders, known_users, options):
    license_type, collection_type = plan["license_type"], plan["collection_type"]
    # each target its own member (a serial, a user of a user collection: members are distinct): their indexes;
    # else target -> index of its member, a list only for a user several devices share
    claimed = array("I") if license_type == DEVICE or collection_type == USER else {}
    registering = set()
    for index, member in enumerate(members):
        target = target_of(member, license_type, collection_type)
        if target is None:
            plan["failed"].append(
                _failure(member, license_type, None, None, REASON_NO_DEVICE_USER % member["member_id"])
            )
            continue
        if stored and _is_awaiting(stored.get(member["member_id"])):
            plan["awaiting"].add(index)
            continue
        if target in holders:
            plan["already"].add(index)
            continue
        if isinstance(claimed, array):
            claimed.append(index)
        else:
            held = claimed.setdefault(target, index)
            if isinstance(held, list):
                held.append(index)
            elif held != index:
                claimed[target] = [held, index]
        unknown_user = target[0] == USER and known_users.get(target[1]) not in ACTIVE_USER_STATUSES
        if unknown_user and target[1] not in registering:
            registering.add(target[1])
            plan["to_register"].append(_user_request(member, collection_type))
    plan["needed"] = len(claimed)
    available = plan["available"]
    plan["short"] = 0 if available is None else max(plan["needed"] - available, 0)
    granted = plan["needed"] if available is None or not options["allow_partial"] else min(plan["needed"], available)
    held_by = ((held,) for held in claimed) if isinstance(claimed, array) else claimed.values()
    for count, held in enumerate(held_by):
        for index in held if isinstance(held, (list, tuple)) else (held,):
            if count < granted:
                plan["to_license"].add(index)
            else:
                member = members[index]
                target = target_of(member, license_type, collection_type)
                reason = REASON_NOT_ENOUGH % (plan["needed"], available)
                plan["failed"].append(_failure(member, license_type, target, NOT_ENOUGH_LICENSES, reason))
    if granted < plan["needed"]:
        # no need to register users who will not get a license in this run
        licensed_users = {entry["target_id"] for entry in plan["to_license"]}
        plan["to_register"] = [user for user in plan["to_register"] if user["client_user_id"] in licensed_users]


def _plan_uninstall(plan, members, stored, holders, asset):
    license_type, collection_type = plan["license_type"], plan["collection_type"]
    one_each = license_type == DEVICE or collection_type == USER  # each target its own member: counted, not kept
    reclaiming, count = set(), 0
    for index, member in enumerate(members):
        target = target_of(member, license_type, collection_type)
        if target is None:
            plan["failed"].append(
                _failure(member, license_type, None, None, REASON_NO_DEVICE_USER % member["member_id"])
            )
        elif stored and _is_awaiting(stored.get(member["member_id"])):
            plan["awaiting"].add(index)
        elif target not in holders:
            plan["already"].add(index)
        elif not asset.get("revocable"):
            reason = REASON_NOT_REVOCABLE % ("book" if asset.get("product_type") == BOOK else "app")
            plan["failed"].append(_failure(member, license_type, target, NOT_REVOCABLE, reason))
        else:
            if one_each:
                count += 1
            else:
                reclaiming.add(target)
            plan["to_reclaim"].add(index)
    plan["needed"] = count + len(reclaiming)


def _left_members(stored, members):
    """The stored member ids no longer among the members, sorted (at 1,000,000 members without a set of the ids)."""
    if isinstance(stored, StoredMembers):
        return stored.ids_not_in(members.ids if isinstance(members, MemberList) else (m["member_id"] for m in members))
    wanted = {member["member_id"] for member in members}
    return [member_id for member_id in sorted(stored) if member_id not in wanted]


def _plan_removed(plan, members, stored, left_ids, holders, options):
    """Members that left the collection: install ones keep their license (untargeted) unless reclaim_removed."""
    license_type, collection_type = plan["license_type"], plan["collection_type"]
    still_served = None  # targets the members and other deployments still need: built when first asked

    def served(options):
        return _served(plan, members, options)

    for member_id in left_ids:
        row = stored[member_id]  # built for a member that left, never for all at once
        member = {"member_id": member_id, "device_user": row.get("device_user")}
        held_type = row.get("license_type") or license_type  # the license it got, even if the app changed since
        target = target_of(member, held_type, collection_type)
        holds = target is not None and target in holders
        if plan["action"] == INSTALL and not holds and row.get("state") == "reclaimed":
            continue  # reclaimed by an earlier run: its record stays, and a second run has nothing to do
        if plan["action"] == UNINSTALL or not holds:
            plan["forgotten"].append(member_entry(member, held_type, target))
        elif options["reclaim_removed"] and target not in (still_served := still_served or served(options)):
            plan["to_reclaim"].append(member_entry(member, held_type, target))
        elif row.get("state") != "untargeted":
            plan["untargeted"].append(member_entry(member, held_type, target))


def _served(plan, members, options):
    license_type, collection_type = plan["license_type"], plan["collection_type"]
    still_served = {target_of(member, license_type, collection_type) for member in members}
    still_served.update(options.get("served_elsewhere") or ())
    return still_served


def _distinct_targets(plan, entries, kind):
    one_each = plan["license_type"] == DEVICE or plan["collection_type"] == USER
    if isinstance(entries, EntryList) and not entries.extra and one_each:
        return len(entries) if kind == plan["license_type"] else 0  # each its member's own target: counted

    def chosen():
        return (entry for entry in entries if entry["license_type"] == kind)

    if all(entry["target_id"] == entry["member_id"] for entry in chosen()):
        return sum(1 for _entry in chosen())  # each target is its member, and members are distinct: no set of ids
    return len({entry["target_id"] for entry in chosen()})


def _batches(plan, limits):
    """Calls each step takes at Apple's limits, as the client cuts them (``batches``)."""
    batches = {}
    for step, entries in (("associate", plan["to_license"]), ("disassociate", plan["to_reclaim"])):
        users, devices = _distinct_targets(plan, entries, USER), _distinct_targets(plan, entries, DEVICE)
        batches[step] = call_count(users, devices, limits)
    batches["create_users"] = batch_count(len(plan["to_register"]), limits["maxUsers"])
    return batches


def short_of_licenses(plan, allow_partial):
    """Whether the plan must be refused before any write: more licenses needed than available."""
    return plan["short"] > 0 and not allow_partial


# --- outcomes ----------------------------------------------------------------------------------------------------


def creation_succeeded(outcome):
    """A user-creation outcome counts as done when Apple created the user or already had it active (9716)."""
    return outcome["succeeded"] or outcome.get("error_number") == USER_ALREADY_EXISTS
