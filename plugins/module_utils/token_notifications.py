# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A token's Apple notification settings, written by ``vpp_token`` (decisions in ``notification_settings.py``).

The order matters to the receiver (``mdm.vpp.vpp_events``), which checks Apple's Bearer against the secret in the
store, including the TEST_NOTIFICATION Apple posts while it handles ``POST /client/config``: the new settings are
committed to the store first, then posted; when Apple refuses them the previous ones are put back. A crash in between
leaves the store ahead of Apple: the next run compares with Apple again and posts again.
"""

from __future__ import annotations

import secrets

from ansible_collections.mdm.vpp.plugins.module_utils.errors import AppleError, VPPError
from ansible_collections.mdm.vpp.plugins.module_utils.notification_settings import (
    apple_body,
    apple_view,
    check_auth_token,
    check_notification_url,
    drift_warning,
    offered_types,
    requested,
    same_stored,
    view,
    wanted_settings,
)

NO_SETTINGS = {"url": None, "secret": None, "types": None}
# Apple's refusals of the settings themselves (reference section 5.3): unreachable receiver, URL and secret.
SETTINGS_REFUSALS = (9728, 9710, 9711, 9712)
SECRET_BYTES = 32  # secrets.token_urlsafe(32): 43 characters, far under maxNotificationLength
RECEIVER_HINT = (
    "run mdm.vpp.vpp_events at that URL with a TLS certificate Apple trusts, reachable from Apple's servers, "
    "answering 2xx to a POST whose Bearer is the token's notification secret; then run this task again"
)


class NotificationPlan:
    """What a task does to one token's notification settings: ``stored`` (the store's now), ``wanted``, Apple's
    view ``at_apple``, the ``body`` to post (None: Apple already has them) and the ``drift`` warning (or None)."""

    def __init__(self, stored, wanted, at_apple, body, drift):
        self.stored, self.wanted, self.at_apple, self.body, self.drift = stored, wanted, at_apple, body, drift

    @property
    def store_changes(self):
        return not same_stored(self.stored, self.wanted)

    @property
    def changed(self):
        return self.body is not None or self.store_changes


def check_notification_options(params):
    """The checks of the ``notification_*`` options that need nothing but the options (before any request)."""
    if params.get("notification_url") is not None:
        check_notification_url(params["notification_url"])
    if params.get("notification_auth_token") is not None:
        check_auth_token(params["notification_auth_token"])


def plan_notifications(name, params, stored, client, client_config):
    """The plan of a task that manages notification settings (None when it does not): every check first."""
    if not requested(params):
        return None
    stored = stored or dict(NO_SETTINGS)
    max_length = client.limits["maxNotificationLength"]
    if params.get("notification_url") is not None:
        check_notification_url(params["notification_url"], max_length)
    if params.get("notification_auth_token") is not None:
        check_auth_token(params["notification_auth_token"], max_length)
    wanted = wanted_settings(params, stored, offered_types(client.service_config), new_secret)
    at_apple = apple_view(client_config)
    drift = drift_warning(name, stored, at_apple)
    return NotificationPlan(stored, wanted, at_apple, apple_body(wanted, at_apple), drift)


def new_secret():
    """A fresh shared secret for Apple's Bearer (the store keeps it encrypted; reruns reuse it)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def apply_notifications(store, client, name, plan):
    """Store the wanted settings, then post them to Apple; on a refusal put the previous ones back and raise."""
    if plan.store_changes:
        store.set_notification_settings(name, plan.wanted["url"], plan.wanted["secret"], plan.wanted["types"])
    if plan.body is None:
        return
    try:
        client.set_client_config(**plan.body)
    except VPPError as err:
        if plan.store_changes:
            store.set_notification_settings(name, plan.stored["url"], plan.stored["secret"], plan.stored["types"])
        raise refused_settings(err, name, plan) from None


def refused_settings(err, name, plan):
    """The error of settings Apple did not save, saying what, why and what to do (never the secret)."""
    url = plan.body.get("notification_url") or plan.wanted["url"]
    if isinstance(err, AppleError) and err.error_number == 9728:
        return AppleError(
            "token %r: Apple could not deliver its TEST_NOTIFICATION to %s (error 9728): Apple saves notification "
            "settings only when the receiver answers it with a 2xx; the previous settings are kept" % (name, url),
            error_number=err.error_number,
            http_status=err.http_status,
            hint=RECEIVER_HINT,
        )
    if isinstance(err, AppleError) and err.error_number in SETTINGS_REFUSALS:
        return AppleError(
            "token %r: Apple refused the notification settings for %s (%s); the previous settings are kept"
            % (name, url, err.msg),
            error_number=err.error_number,
            http_status=err.http_status,
            hint="give an https:// URL (host and path only) and a secret of at most maxNotificationLength characters",
        )
    err.msg = "token %r: the notification settings were not saved at Apple, the previous ones are kept: %s" % (
        name,
        err.msg,
    )
    err.args = (err.msg,)
    return err


def notification_facts(settings):
    """What results show of stored (or predicted) settings: None when there are none."""
    if not settings or (settings["url"] is None and settings["types"] is None):
        return None
    return view(settings)
