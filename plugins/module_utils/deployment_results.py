# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The result of a deployment run: what it did (or, in check mode, would do), invitations, the diff.

``DeploymentResults`` is a part of ``deployment_run.DeploymentRun`` and uses its state (``store``, ``module``,
``outcome``, ``failed``, ``users``, ``before``...).
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.deployment_views import (
    RESULT_MEMBERS,
    Tally,
    bounded,
    deployment_diff,
    deployment_view,
    invitation_url,
    iter_member_changes,
    mdm_commands,
    member_states,
    membership_changes,
    plan_excerpt,
    plan_summary,
    plan_writes,
    predicted_rows,
    predicted_states,
)
from ansible_collections.mdm.vpp.plugins.module_utils.licensing import target_of
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import REGISTERED, USER


class DeploymentResults:
    """The reporting part of a deployment run: the module result, from the store and the run's outcome."""

    def _invitations(self):
        """Links for the deployment's users who have not accepted Apple's invitation yet (status Registered): a
        ``Tally``. Member rows are read (streaming) only when a known user of the token is still Registered."""
        invitations = Tally()
        if not any(user.get("status") == REGISTERED and user.get("invite_code") for user in self.users.values()):
            return invitations
        template = self.client.urls.get("invitationEmail")
        seen = set()
        for row in self.store.iter_member_targets(self.name):
            target = target_of(row, row.get("license_type") or USER, self.collection["type"])
            if target is None or target[0] != USER or target[1] in seen:
                continue
            seen.add(target[1])
            user = self.users.get(target[1])
            if user and user.get("status") == REGISTERED and user.get("invite_code"):
                invitations.add(
                    [
                        {
                            "client_user_id": target[1],
                            "email": user.get("email"),
                            "url": invitation_url(template, user["invite_code"]),
                        }
                    ]
                )
        return invitations

    def result_details(self):
        """The deployment's view and what this run did to its members (also the details of a timeout): counts of
        every member, and the first ``RESULT_MEMBERS`` of each list."""
        row = self.store.get_deployment(self.name)
        failed = bounded(self.failed.values())
        tallies = {
            "licensed": self.outcome["licensed"],
            "reclaimed": self.outcome["reclaimed"],
            "failed_members": failed,
            "registered_users": self.outcome["registered_users"],
        }
        return dict(
            {key: tally.first for key, tally in tallies.items()},
            deployment=deployment_view(row, self.store.count_members(self.name) if row else {}),
            pending_event_ids=list(self.outcome["pending_event_ids"]),
            counts={key: tally.count for key, tally in tallies.items()},
            left_out={key: tally.left_out for key, tally in tallies.items()},
        )

    def result(self, plan):
        """The module result after carrying out ``plan``: bounded whatever the number of members."""
        details = self.result_details()
        states = details["deployment"].get("states") or {}
        pending = Tally()
        if states.get("pending"):
            pending.add([row["member_id"] for row in self.store.list_members(self.name, "pending", RESULT_MEMBERS)])
            pending.count = states["pending"]
        lists = {
            "untargeted": bounded(entry["member_id"] for entry in plan["untargeted"]),
            "pending": pending,
            "invitations": self._invitations(),
        }
        result = dict(
            details,
            changed=self.changed,
            plan=plan_excerpt(plan, RESULT_MEMBERS),
            application_created=self.application_created,
            requests=self.module.request_stats(),
            **{key: tally.first for key, tally in lists.items()},
        )
        result["counts"].update((key, tally.count) for key, tally in lists.items())
        result["left_out"].update((key, tally.left_out) for key, tally in lists.items())
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
        mdm, wait = None, self.params["wait"]
        if self.mdm is None:  # counted, no row a member: check mode at 1,000,000 members
            states = predicted_states(plan, stored, self.members, wait)
        else:
            rows = predicted_rows(plan, stored, self.members, wait)
            states = member_states(rows)
            mdm = plan["mdm"] = self.predict_mdm(plan, {row["member_id"]: row for row in rows})
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
        after = deployment_view(row, states)
        pending_events = self.store.pending_events(deployment=self.name) if self.existing else []
        changed = bool(
            self.existing is None
            or after != self.before
            or pending_events
            or plan_writes(plan)
            or next(iter_member_changes(plan, stored, self.members), None) is not None
            or bool(mdm and (mdm["install"]["members"] or mdm["remove"]["members"]))
        )
        predicted_failures = (
            {key: entry[key] for key in ("member_id", "error_number", "error_message")} for entry in plan["failed"]
        )
        failed = bounded(predicted_failures)
        result = {
            "changed": changed,
            "plan": plan_excerpt(plan, RESULT_MEMBERS),
            "summary": plan_summary(plan),
            "deployment": after,
            "pending_event_ids": [event["event_id"] for event in pending_events],
            "failed_members": failed.first,
            "counts": {"failed_members": failed.count},
            "left_out": {"failed_members": failed.left_out},
            "requests": self.module.request_stats(),
        }
        if self.module.diff_mode:
            result["diff"] = self.diff(plan, after, mdm)
        return result
