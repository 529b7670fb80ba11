# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a deployment asks of the organisation's MDM after (install) or before (uninstall) Apple's license; pure.

An install goes only to members whose license Apple confirmed (state ``licensed``) and whose device has not been
sent it yet, or answered with an error; an uninstall (or a reclaim of removed members) first removes the app, and
gives the license back once the device confirmed the removal (``reclaim_when: removed``) or once the MDM queued it
(``sent``). A member without an enrollment id is reported, never guessed.
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import (
    INSTALL_FAILED,
    NOT_NOW,
    RECLAIM_WHEN_SENT,
    REMOVAL_SENDING,
    REMOVAL_SENT,
    REMOVED,
    SENDING,
    SENT,
)

NO_ENROLLMENT = (
    "no enrollment id: give the member's enrollment_id (its device UDID, or UDID:UserID for a macOS user channel)"
)
NO_ENROLLMENT_MICROMDM = "MicroMDM knows no enrolled device with this serial number"
# How a driver's refusal begins when the MDM server said it does not know the enrollment (NanoMDM: no push data).
UNKNOWN_ENROLLMENT = "unknown enrollment"
NOT_SENT_AGAIN = "not sent again until the member's enrollment_id changes or its device enrolls"
MACOS = "macos"

# Install states after which nothing is sent again to the member's device (an error is retried on the next run).
INSTALL_GOING = (SENT, NOT_NOW, "installed")
# Install states of a member whose removal is under way; confirmed; or finished, for reclaim_when: sent.
REMOVAL_GOING = (REMOVAL_SENT,)


def needs_install(row):
    """Whether the member's device should be sent the install: licensed, and not sent yet, or it failed."""
    return row.get("state") == "licensed" and row.get("install_state") not in INSTALL_GOING


def mac_only(platforms):
    """Whether an app's platforms (Apple's device families) are Macs only: its install is then InstallAsManaged."""
    platforms = {str(platform).lower() for platform in platforms or ()}
    return bool(platforms) and platforms <= {"mac", "macos", "osx"}


def unknown_to_mdm(row):
    """Whether the MDM server refused the member's install because it does not know the enrollment."""
    return row.get("install_state") == INSTALL_FAILED and str(row.get("install_error") or "").startswith(
        UNKNOWN_ENROLLMENT
    )


def plan_installs(rows, members, app_for_mac=False, before=None):
    """``{"to_send": [...], "resend": {uuid: [...]}, "unenrolled": [...], "unknown": [...]}`` for the licensed
    members of ``rows``.

    ``rows``: the deployment's member rows after the license step; ``members``: the wanted members (enrollment id
    and platform as the task gives them); ``before``: ``{member_id: row}`` as stored before this run. Entries:
    ``{member_id, enrollment_id, mac}``. ``resend`` groups members recorded ``sending`` by a run that stopped before
    the MDM answered: sent again with the same command UUID. ``unknown``: members whose enrollment the MDM said it
    does not know, with the same enrollment id as then: not sent again (a rerun stays quiet), still failed; their
    entries carry the recorded ``error``.
    """
    wanted = {member["member_id"]: member for member in members}
    before = before or {}
    plan = {"to_send": [], "resend": {}, "unenrolled": [], "unknown": []}
    for row in rows:
        member = wanted.get(row["member_id"])
        if member is None or not needs_install(row):
            continue
        entry = install_entry(row, member, app_for_mac)
        earlier = before.get(row["member_id"]) or row
        if entry["enrollment_id"] is None:
            plan["unenrolled"].append(entry)
        elif unknown_to_mdm(earlier) and earlier.get("enrollment_id") == entry["enrollment_id"]:
            plan["unknown"].append(dict(entry, error=earlier["install_error"]))
        elif row.get("install_state") == SENDING and row.get("command_uuid"):
            plan["resend"].setdefault(row["command_uuid"], []).append(entry)
        else:
            plan["to_send"].append(entry)
    return plan


def install_entry(row, member, app_for_mac=False):
    """One member as the MDM step sees it: id, enrollment (the task's, else the stored one), whether a Mac (its
    platform says so; else a macOS user channel ``UDID:UserID``, or an app for Macs only)."""
    enrollment_id = (member or {}).get("enrollment_id") or row.get("enrollment_id")
    platform = (member or {}).get("platform")
    if platform is not None:
        mac = platform == MACOS
    else:
        mac = app_for_mac or (enrollment_id is not None and ":" in enrollment_id)
    return {"member_id": row["member_id"], "enrollment_id": enrollment_id, "mac": mac}


def plan_removals(entries, rows, reclaim_when):
    """Split the plan's ``to_reclaim`` entries by what the device did: ``{"reclaim", "to_send", "resend",
    "awaiting", "unenrolled"}``.

    ``reclaim``: license to take back now (removal confirmed, or with ``reclaim_when: sent`` queued by the MDM);
    ``to_send``: removal to send (never sent, or the device answered with an error); ``resend``: ``{uuid: [...]}``
    of removals a stopped run recorded ``removal_sending``; ``awaiting``: sent, the device has not confirmed yet.
    """
    split = {"reclaim": [], "to_send": [], "resend": {}, "awaiting": [], "unenrolled": []}
    for entry in entries:
        row = rows.get(entry["member_id"]) or {}
        state = row.get("install_state")
        if state == REMOVED or (state in REMOVAL_GOING and reclaim_when == RECLAIM_WHEN_SENT):
            split["reclaim"].append(entry)
        elif state in REMOVAL_GOING:
            split["awaiting"].append(entry)
        elif state == REMOVAL_SENDING and row.get("command_uuid"):
            split["resend"].setdefault(row["command_uuid"], []).append(dict(entry, enrollment_id=row["enrollment_id"]))
        elif row.get("enrollment_id") is None:
            split["unenrolled"].append(entry)
        else:
            split["to_send"].append(dict(entry, enrollment_id=row["enrollment_id"]))
    return split


def chunks(entries, size):
    """``entries`` cut into lists of at most ``size`` (one MDM request each)."""
    return [entries[start : start + size] for start in range(0, len(entries), size)]


def command_groups(entries, size):
    """Install entries grouped by command shape (Mac or not: ``InstallAsManaged``), each cut to ``size`` ids.
    Removal entries (the license plan's, without ``mac``) count as not Mac: RemoveApplication has one shape."""
    groups = []
    for mac in (False, True):
        same = [entry for entry in entries if entry.get("mac", False) == mac]
        groups.extend((mac, chunk) for chunk in chunks(same, size))
    return groups


def request_count(entries, size):
    """MDM enqueues that ``command_groups`` makes of ``entries`` (check mode predicts them)."""
    return len(command_groups(entries, size))
