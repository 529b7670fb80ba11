# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Revoking before a token is deleted (``revoke_on_delete``): who holds a revocable license, and taking them back.

``revoke_plan`` and ``revoke_failures`` are pure; ``revoke_all`` asks Apple, records each event in the store before
waiting for it (a crash leaves a trace), and stops with the token kept if Apple refuses any member.
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.errors import AppleError
from ansible_collections.mdm.vpp.plugins.module_utils.token_facts import with_token_context
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import EVENT_TYPE_REVOKE, apple_asset_key

# Revoke events finish within seconds: the client reads them soon, then as Apple asks (event_poll_interval).
EVENT_TIMEOUT = 600


def revoke_plan(assignments, revocable_assets):
    """Who holds a revocable license: ``{"client_user_ids", "serial_numbers", "licenses"}`` from Apple's listings.

    ``assignments`` are Apple ``Assignment`` records, ``revocable_assets`` a set of (adamId, pricingParam).
    Holders of books only are left out: Apple cannot take books back.
    """
    users, serials, licenses = {}, {}, 0
    for assignment in assignments:
        if apple_asset_key(assignment) not in revocable_assets:
            continue
        licenses += 1
        if assignment.get("clientUserId"):
            users[assignment["clientUserId"]] = None
        elif assignment.get("serialNumber"):
            serials[assignment["serialNumber"]] = None
    return {"client_user_ids": list(users), "serial_numbers": list(serials), "licenses": licenses}


def revoke_failures(results):
    """The failed members of finished revoke events (``client.wait_for_events`` results)."""
    failed = []
    for result in results.values():
        failed.extend(outcome for outcome in result.get("outcomes") or () if not outcome["succeeded"])
    return failed


def revoke_all(module, name):
    """Take back every revocable license of the token's location; stop (token kept) if Apple refuses any."""
    store = module.store
    client = module.client_for(store.get_token_secret(name), allow_takeover=module.params["force_takeover"])
    try:
        revocable = {apple_asset_key(asset) for asset in client.assets() if asset.get("revocable")}
        plan = revoke_plan(client.assignments(), revocable)
        summary = {
            "users": len(plan["client_user_ids"]),
            "devices": len(plan["serial_numbers"]),
            "licenses": plan["licenses"],
            "events": [],
        }
        if module.check_mode or not plan["licenses"]:
            return summary
        results = _revoke_and_wait(client, store, name, plan)
    except AppleError as err:
        raise with_token_context(err, name) from None
    summary["events"] = list(results)
    summary["licenses"] = sum(outcome["num_completed"] or 0 for outcome in results.values())
    failed = revoke_failures(results)
    if failed:
        raise _revoke_error(name, failed, summary)
    return summary


def _revoke_and_wait(client, store, name, plan):
    """Submit the revocations, record each event before waiting (a crash leaves a trace), wait, record outcomes."""

    def record_submitted(batch):
        request = {"client_user_ids": len(batch["client_user_ids"]), "serial_numbers": len(batch["serial_numbers"])}
        store.record_event(name, batch["event_id"], EVENT_TYPE_REVOKE, request=request)

    batches = client.revoke(plan["client_user_ids"], plan["serial_numbers"], on_submit=record_submitted)
    results = client.wait_for_events(batches, timeout=EVENT_TIMEOUT)
    for event_id, outcome in results.items():
        store.update_event(name, event_id, outcome["status"], result={"num_completed": outcome["num_completed"]})
    return results


def _revoke_error(name, failed, summary):
    first = failed[0]
    return AppleError(
        "token %r: Apple could not revoke the licenses of %d user(s) or device(s) (first: %s, error %s: %s); "
        "the token was kept"
        % (
            name,
            len(failed),
            first.get("client_user_id") or first.get("serial_number"),
            first["error_number"],
            first["error_message"],
        ),
        error_number=first["error_number"],
        hint="fix the cause and run again with revoke_on_delete: true, or delete the token without revoking",
        details={"revoked": summary},
    )
