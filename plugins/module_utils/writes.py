# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Apple client's writers: license and user changes cut into batches Apple accepts and submitted."""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.batches import plan_batches, plan_user_batches
from ansible_collections.mdm.vpp.plugins.module_utils.errors import AppleError
from ansible_collections.mdm.vpp.plugins.module_utils.service_config import ENDPOINTS
from ansible_collections.mdm.vpp.plugins.module_utils.spelling import request_body
from ansible_collections.mdm.vpp.plugins.module_utils.submission import OnSubmit, submit_batches
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import (
    EVENT_TYPE_ASSOCIATE,
    EVENT_TYPE_CREATE,
    EVENT_TYPE_DISASSOCIATE,
    EVENT_TYPE_RETIRE,
    EVENT_TYPE_REVOKE,
    EVENT_TYPE_UPDATE,
)

# Associate/disassociate requests in flight at once: at Apple's 300 ms a request, one after the other reach 3 a
# second; 5 at once reach the 15 a second the rate limiter lets through (docs/BENCHMARKS.md, B5L).
WRITES_IN_FLIGHT = 5


class Writers:
    """Mixin of ``VPPClient``: the writers. The class provides ``request(method, endpoint, body=...)`` (one call
    to a key of ``service_config.ENDPOINTS``, returning the JSON answer) and ``limits`` (Apple's current limits).
    """

    def associate(self, assets, client_user_ids=(), serial_numbers=(), on_submit=None, hooks=None):
        """Assign assets to users and/or devices; returns the submitted batches (one event each).

        With ``hooks`` (``submission.Hooks``) users Apple refuses synchronously are split out of their batch.
        """
        batches = self._asset_batches(assets, client_user_ids, serial_numbers)
        return self._submit(EVENT_TYPE_ASSOCIATE, "associateAssets", batches, on_submit, hooks, WRITES_IN_FLIGHT)

    def disassociate(self, assets, client_user_ids=(), serial_numbers=(), on_submit=None, hooks=None):
        """Take assets back from users and/or devices; returns the submitted batches."""
        batches = self._asset_batches(assets, client_user_ids, serial_numbers)
        return self._submit(EVENT_TYPE_DISASSOCIATE, "disassociateAssets", batches, on_submit, hooks, WRITES_IN_FLIGHT)

    def _asset_batches(self, assets, client_user_ids, serial_numbers):
        """Associate/disassociate requests cut to the current service limits."""
        limits = self.limits
        return plan_batches(
            assets,
            client_user_ids,
            serial_numbers,
            max_assets=limits["maxAssets"],
            max_client_user_ids=limits["maxClientUserIds"],
            max_serial_numbers=limits["maxSerialNumbers"],
        )

    def revoke(self, client_user_ids=(), serial_numbers=(), on_submit=None):
        """Take back every revocable license of these users and devices; returns the submitted batches."""
        limits = self.limits
        batches = plan_batches(
            (),
            client_user_ids,
            serial_numbers,
            max_assets=None,
            max_client_user_ids=limits["maxRevokeClientUserIds"],
            max_serial_numbers=limits["maxRevokeSerialNumbers"],
        )
        return self._submit(EVENT_TYPE_REVOKE, "revokeAssets", batches, on_submit)

    def create_users(self, users, on_submit=None):
        """Register users (dicts with ``client_user_id``/``clientUserId``, ``email``, ``managed_apple_id``)."""
        return self._submit(
            EVENT_TYPE_CREATE, "createUsers", plan_user_batches(users, self.limits["maxUsers"]), on_submit
        )

    def update_users(self, users, on_submit=None):
        return self._submit(
            EVENT_TYPE_UPDATE, "updateUsers", plan_user_batches(users, self.limits["maxUsers"]), on_submit
        )

    def retire_users(self, client_user_ids, on_submit=None):
        batches = plan_user_batches(client_user_ids, self.limits["maxUsers"])
        return self._submit(EVENT_TYPE_RETIRE, "retireUsers", batches, on_submit)

    def _submit(self, event_type, endpoint, batches, on_submit=None, hooks=None, in_flight=1):
        """Send the batches (see ``submission.submit_batches``), up to ``in_flight`` at once; ``hooks`` wins over a
        bare ``on_submit``."""

        def send(batch):
            payload = self.request("POST", endpoint, body=request_body(batch))
            if not payload.get("eventId"):
                raise AppleError("POST %s: Apple returned no eventId" % ENDPOINTS[endpoint])
            return payload["eventId"]

        return submit_batches(send, event_type, batches, hooks or OnSubmit(on_submit), in_flight)
