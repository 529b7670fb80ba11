# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure decisions about a token's Apple notification settings (``vpp_token``'s ``notification_*`` options).

Apple posts its notifications to one HTTPS URL per location, with a shared secret as ``Authorization: Bearer`` and
only the types subscribed (reference sections 4.12, 5.3, 11). Here: the local checks of the options, the settings a
task wants, what must be written (the store, Apple, or both) and the views shown in results. No store, no client:
``token_notifications.py`` orchestrates. A view names the secret by its fingerprint only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.stoken import fingerprint
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import LICENSE_AND_USER_NOTIFICATIONS

# Apple's documented maxNotificationLength: the URL and the secret are checked against it before any request,
# then against the live limit of GET /service/config.
DEFAULT_MAX_NOTIFICATION_LENGTH = 512
NOTIFICATION_OPTIONS = ("notification_url", "notification_auth_token", "notification_types")
URL_HINT = "give the https:// URL of your mdm.vpp.vpp_events receiver, host and path only (no query)"


def secret_fingerprint(secret):
    """The fingerprint of a notification secret (None for none): the client's ``notificationAuthTokenFingerprint``."""
    return fingerprint(secret) if secret else None


def requested(params):
    """Whether the task manages notification settings at all (any ``notification_*`` option given)."""
    return any(params.get(option) is not None for option in NOTIFICATION_OPTIONS)


def check_notification_url(url, max_length=DEFAULT_MAX_NOTIFICATION_LENGTH):
    """Refuse a URL Apple would refuse (9711, 9712): https, a host, no query, fragment or user, not too long."""
    if len(url) > max_length:
        raise ConfigurationError(
            "notification_url is %d characters long; Apple accepts at most %d" % (len(url), max_length), hint=URL_HINT
        )
    parts = urlsplit(url)
    problem = None
    if parts.scheme != "https":
        problem = "Apple posts its notifications over HTTPS only"
    elif not parts.hostname:
        problem = "it names no host"
    elif parts.query or parts.fragment or "?" in url:
        problem = "Apple accepts a host and a path only, no query or fragment"
    elif parts.username or parts.password:
        problem = "it carries a user name or password (the shared secret goes in notification_auth_token)"
    if problem:
        raise ConfigurationError("notification_url %r is refused: %s" % (url, problem), hint=URL_HINT)


def check_auth_token(secret, max_length=DEFAULT_MAX_NOTIFICATION_LENGTH):
    """Refuse an empty or too long shared secret (9710, 9711), never quoting it."""
    if not secret.strip():
        raise ConfigurationError(
            "notification_auth_token is empty", hint="give a long random secret, or leave it out to have one generated"
        )
    if len(secret) > max_length:
        raise ConfigurationError(
            "notification_auth_token is %d characters long; Apple accepts at most %d" % (len(secret), max_length),
            hint="give a shorter secret, or leave it out to have one generated",
        )


def check_types(types, offered):
    """The types asked for, each once, in the order given; refused when Apple does not offer one of them."""
    unknown = [kind for kind in types if kind not in offered]
    if unknown:
        raise ConfigurationError(
            "notification_types: Apple does not offer %s for this location (it offers %s)"
            % (", ".join(repr(kind) for kind in unknown), ", ".join(offered) or "none"),
            hint="choose among the types Apple offers, or leave notification_types out for every license and user type",
        )
    return list(dict.fromkeys(types))


def default_types(offered):
    """Every type about licenses and users that Apple offers (the default of ``notification_types``)."""
    return [kind for kind in LICENSE_AND_USER_NOTIFICATIONS if kind in offered]


def offered_types(service_config):
    """The types Apple's service config offers; Apple's documented four when it lists none."""
    return list(service_config.get("notificationTypes") or LICENSE_AND_USER_NOTIFICATIONS)


def wanted_settings(params, stored, offered, new_secret):
    """The settings ``{"url", "secret", "types"}`` the task wants, from its options and what the store holds.

    ``stored``: the store's settings (``store.get_notification_settings``); ``new_secret``: makes a secret when
    none is given nor stored (called at most once). The URL and secret left out are the stored ones; the types left
    out are the default. ``notification_types: []`` switches notifications off and needs no URL.
    """
    url = params.get("notification_url") or stored["url"]
    types = params.get("notification_types")
    types = default_types(offered) if types is None else check_types(types, offered)
    if url is None:
        if types:
            raise ConfigurationError(
                "notification_types needs a notification_url: none is stored for this token",
                hint="give notification_url (the https:// address of your mdm.vpp.vpp_events receiver)",
            )
        return {"url": None, "secret": None, "types": types}
    secret = params.get("notification_auth_token") or stored["secret"] or new_secret()
    return {"url": url, "secret": secret, "types": types}


def view(settings):
    """What a result may show of settings ``{"url", "secret", "types"}``: the secret's fingerprint only."""
    return {
        "url": settings["url"],
        "types": None if settings["types"] is None else list(settings["types"]),
        "auth_token_fingerprint": secret_fingerprint(settings["secret"]),
    }


def apple_view(client_config):
    """The settings Apple's client config reports (the client already turned the secret into its fingerprint)."""
    return {
        "url": client_config.get("notificationUrl") or None,
        "types": list(client_config.get("subscribedNotificationTypes") or []),
        "auth_token_fingerprint": client_config.get("notificationAuthTokenFingerprint"),
    }


def same_settings(one, other):
    """Whether two views are the same settings (the order of the types does not matter)."""
    return (
        one["url"] == other["url"]
        and one["auth_token_fingerprint"] == other["auth_token_fingerprint"]
        and sorted(one["types"] or []) == sorted(other["types"] or [])
    )


def same_stored(stored, wanted):
    """Whether the store already holds ``wanted`` (settings dicts; the order of the types does not matter)."""
    same_types = (stored["types"] is None) == (wanted["types"] is None) and sorted(stored["types"] or []) == sorted(
        wanted["types"] or []
    )
    return stored["url"] == wanted["url"] and stored["secret"] == wanted["secret"] and same_types


def apple_body(wanted, at_apple):
    """The ``POST /client/config`` fields that bring Apple to ``wanted`` (a settings dict), or None when Apple
    already has them. The types always go (Apple replaces the set); the URL and the secret together (9710), only
    when one of them differs: that is what makes Apple post its TEST_NOTIFICATION."""
    if wanted["url"] is None:  # switched off with no URL known: only the (empty) types matter
        return {"notification_types": []} if at_apple["types"] else None
    wanted_view = view(wanted)
    if same_settings(wanted_view, at_apple):
        return None
    body = {"notification_types": list(wanted["types"])}
    if wanted["url"] is not None and (
        wanted["url"] != at_apple["url"] or wanted_view["auth_token_fingerprint"] != at_apple["auth_token_fingerprint"]
    ):
        body.update(notification_url=wanted["url"], notification_auth_token=wanted["secret"])
    return body


def drift_warning(name, stored, at_apple):
    """The warning when Apple's settings are not the ones the store recorded (another tool changed them), else None."""
    stored_view = view(stored)
    if stored["url"] is None and stored["types"] is None:
        return None  # never set through this collection: nothing to have drifted from
    if same_settings(stored_view, at_apple):
        return None
    return (
        "token %r: Apple's notification settings (url %s, types %s) are not the ones this collection set (url %s, "
        "types %s): another tool changed them; this task's settings replace them"
        % (
            name,
            at_apple["url"],
            ", ".join(at_apple["types"]) or "none",
            stored_view["url"],
            ", ".join(stored_view["types"] or []) or "none",
        )
    )
