# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The result of a deployment run: what it did (or, in check mode, would do), invitations, the diff.

``DeploymentResults`` is a part of ``deployment_run.DeploymentRun`` and uses its state (``store``, ``module``,
``outcome``, ``failed``, ``users``, ``before``...).
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.deployment_views import (
    deployment_diff,
    deployment_view,
    mdm_commands,
    member_changes,
    membership_changes,
    predicted_rows,
)
from ansible_collections.mdm.vpp.plugins.module_utils.licensing import (
    invitation_url,
    member_states,
    plan_summary,
    plan_writes,
    target_of,
)
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import REGISTERED, USER


class DeploymentResults:
    """The reporting part of a deployment run: the module result, from the store and the run's outcome."""

    def _invitations(self, rows):
        """Links for the deployment's users who have not accepted Apple's invitation yet (status Registered)."""
        template = self.client.urls.get("invitationEmail")
        invitations, seen = [], set()
        for row in rows:
            target = target_of(row, row.get("license_type") or USER, self.collection["type"])
            if target is None or target[0] != USER or target[1] in seen:
                continue
            seen.add(target[1])
            user = self.users.get(target[1])
            if user and user.get("status") == REGISTERED and user.get("invite_code"):
                invitations.append(
                    {
                        "client_user_id": target[1],
                        "email": user.get("email"),
                        "url": invitation_url(template, user["invite_code"]),
                    }
                )
        return invitations

    def result_details(self):
        """The deployment's view and what this run did to its members (also the details of a timeout)."""
        rows = self.store.list_members(self.name) if self.store.get_deployment(self.name) else []
        return {
            "deployment": deployment_view(self.store.get_deployment(self.name), member_states(rows)),
            "licensed": self.outcome["licensed"],
            "reclaimed": self.outcome["reclaimed"],
            "failed_members": list(self.failed.values()),
            "pending_event_ids": list(self.outcome["pending_event_ids"]),
            "registered_users": self.outcome["registered_users"],
        }

    def result(self, plan):
        """The module result after carrying out ``plan``."""
        details = self.result_details()
        rows = self.store.list_members(self.name)
        result = dict(
            details,
            changed=self.changed,
            plan=plan,
            untargeted=[entry["member_id"] for entry in plan["untargeted"]],
            pending=[row["member_id"] for row in rows if row["state"] == "pending"],
            invitations=self._invitations(rows),
            application_created=self.application_created,
            requests=self.module.request_stats(),
        )
        mdm = self.mdm_result()
        if mdm is not None:
            result["mdm"] = mdm
        if self.module.diff_mode:
            result["diff"] = self.diff(plan, details["deployment"], mdm)
        return result

    def diff(self, plan, after, mdm=None):
        """The diff of this run: before and after, the app, the members gaining or losing a license, named, and
        the MDM commands that go (``mdm``: what was sent, or in check mode ``plan["mdm"]``, what would go)."""
        metadata = self.store.get_metadata(self.identity["adam_id"]) or {}
        app = "%s (%s)" % (metadata.get("name") or self.application_name, self.identity["adam_id"])
        changes = membership_changes(plan, self.stored_before, self.members)
        diff = deployment_diff(self.before, after, changes, app)
        if mdm:
            diff["after"]["mdm"] = mdm_commands(mdm)
        return diff

    def predicted_result(self, plan, stored, license_type):
        """The module result in check mode: what carrying out ``plan`` would change."""
        rows = predicted_rows(plan, stored, self.members, self.params["wait"])
        mdm = self.predict_mdm(plan, {row["member_id"]: row for row in rows})
        if mdm is not None:
            plan["mdm"] = mdm
        row = dict(
            self.existing or {},
            name=self.name,
            application=self.application_name,
            collection_name=self.collection["name"],
            collection_type=self.collection["type"],
            action=self.params["action"],
            purpose=self.params["purpose"],
            license_type=license_type,
            **self.identity,
        )
        after = deployment_view(row, member_states(rows))
        pending_events = self.store.pending_events(deployment=self.name) if self.existing else []
        changed = bool(
            self.existing is None
            or after != self.before
            or pending_events
            or plan_writes(plan)
            or member_changes(plan, stored, self.members)
            or bool(mdm and (mdm["install"]["members"] or mdm["remove"]["members"]))
        )
        predicted_failures = [
            {key: entry[key] for key in ("member_id", "error_number", "error_message")} for entry in plan["failed"]
        ]
        result = {
            "changed": changed,
            "plan": plan,
            "summary": plan_summary(plan),
            "deployment": after,
            "pending_event_ids": [event["event_id"] for event in pending_events],
            "failed_members": predicted_failures,
            "requests": self.module.request_stats(),
        }
        if self.module.diff_mode:
            result["diff"] = self.diff(plan, after, mdm)
        return result
