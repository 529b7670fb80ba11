# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``VPPModule``: the base every mdm.vpp module builds on.

It adds the common options (documented once in the ``mdm.vpp.vpp`` doc fragment) to the module's own, opens
the store on first use, builds clients with the common connection options, and turns every error into one
uniform ``fail_json`` without secrets. A module then reads::

    def run(module):
        ...
        return {"changed": changed, ...}

    def main():
        VPPModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(run)
"""

from __future__ import annotations

import ipaddress
import re
import threading
import traceback
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.mdm.vpp.plugins.module_utils.client import (
    DEFAULT_API_URL,
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    VPPClient,
)
from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError, VPPError
from ansible_collections.mdm.vpp.plugins.module_utils.mdm import MDM_TYPES, open_mdm
from ansible_collections.mdm.vpp.plugins.module_utils.paging import MAX_PAGES_IN_FLIGHT
from ansible_collections.mdm.vpp.plugins.module_utils.parallel import resolve_parallel
from ansible_collections.mdm.vpp.plugins.module_utils.support import unsupported_controller, untested_controller
from ansible_collections.mdm.vpp.plugins.module_utils.transport import close_connection_pool, new_connection_pool

VPP_COMMON_ARGSPEC = {
    "store": {"type": "str", "fallback": (env_fallback, ["VPP_STORE"])},
    "store_key": {"type": "str", "no_log": True, "fallback": (env_fallback, ["VPP_STORE_KEY"])},
    "api_url": {"type": "str", "default": DEFAULT_API_URL, "fallback": (env_fallback, ["VPP_API_URL"])},
    "validate_certs": {"type": "bool", "default": True, "fallback": (env_fallback, ["VPP_VALIDATE_CERTS"])},
    "ca_path": {"type": "path", "fallback": (env_fallback, ["VPP_CA_PATH"])},
    "timeout": {"type": "int", "default": 30, "fallback": (env_fallback, ["VPP_TIMEOUT"])},
    "retries": {"type": "int", "default": 5, "fallback": (env_fallback, ["VPP_RETRIES"])},
    "event_poll_interval": {"type": "float", "default": 30.0, "fallback": (env_fallback, ["VPP_EVENT_POLL_INTERVAL"])},
    # the organisation's MDM server (doc fragment mdm.vpp.mdm)
    "mdm_type": {"type": "str", "choices": list(MDM_TYPES), "fallback": (env_fallback, ["VPP_MDM_TYPE"])},
    "mdm_url": {"type": "str", "fallback": (env_fallback, ["VPP_MDM_URL"])},
    "mdm_api_key": {"type": "str", "no_log": True, "fallback": (env_fallback, ["VPP_MDM_API_KEY"])},
    "mdm_validate_certs": {"type": "bool", "default": True, "fallback": (env_fallback, ["VPP_MDM_VALIDATE_CERTS"])},
    "mdm_ca_path": {"type": "path", "fallback": (env_fallback, ["VPP_MDM_CA_PATH"])},
}


NO_LOG_MASK = "********"  # what Ansible puts in place of a no_log value

MAX_NAME_LENGTH = 255
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
LOOPBACK_NAMES = ("localhost",)


def check_name(option, value):
    """Refuse a name (of a token, application, deployment or collection) that is empty, holds a control character
    or is longer than ``MAX_NAME_LENGTH`` characters; ``None`` (not given) passes."""
    if value is None:
        return
    problem = None
    if not value.strip():
        problem = "is empty"
    elif CONTROL_CHARACTERS.search(value):
        problem = "holds a control character (%r)" % CONTROL_CHARACTERS.search(value).group()
    elif len(value) > MAX_NAME_LENGTH:
        problem = "is %d characters long, more than %d" % (len(value), MAX_NAME_LENGTH)
    if problem:
        raise ConfigurationError(
            "%s %s" % (option, problem),
            hint="give %s a name of 1 to %d characters without line breaks, tabs or other control characters"
            % (option, MAX_NAME_LENGTH),
        )


def is_loopback(host):
    """Whether ``host`` (a URL's host name) is this machine: 127.0.0.0/8, ::1 or localhost."""
    host = (host or "").lower().rstrip(".")
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_service_url(option, url, secret, example):
    """Refuse a service URL that is not https, except plain http to a loopback address (a local stand-in):
    ``secret`` (what travels in every request) would cross the network unencrypted."""
    if url is None:
        return
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https" and parts.hostname:
        return
    if scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return
    if scheme == "http" and parts.hostname:
        raise ConfigurationError(
            "%s uses plain http to %s, which is not this machine: %s would cross the network unencrypted"
            % (option, parts.hostname, secret),
            hint="use an https:// URL (plain http is accepted only for 127.0.0.1, ::1 or localhost)",
        )
    raise ConfigurationError("%s %r is not an https:// URL" % (option, url), hint="give %s" % example)


def check_api_url(api_url):
    """``api_url``: https, or plain http to this machine only (the content token travels in a request header)."""
    check_service_url("api_url", api_url, "the content token", "Apple's service URL, e.g. %s" % DEFAULT_API_URL)


def check_mdm_options(params):
    """The MDM options: all of type, URL and key, or none (then deployments assign licenses only)."""
    given = [option for option in ("mdm_type", "mdm_url", "mdm_api_key") if params.get(option)]
    if not given:
        return
    missing = [option for option in ("mdm_type", "mdm_url", "mdm_api_key") if not params.get(option)]
    if missing:
        raise ConfigurationError(
            "the MDM server is configured only in part: %s given, %s missing" % (", ".join(given), ", ".join(missing)),
            hint="give mdm_type, mdm_url and mdm_api_key (or VPP_MDM_TYPE, VPP_MDM_URL, VPP_MDM_API_KEY), or none "
            "of them to assign licenses without installing",
        )
    check_service_url(
        "mdm_url", params["mdm_url"], "the MDM API key", "the MDM server's URL, e.g. https://mdm.example.com"
    )


def check_common_options(params):
    """The common options (and ``wait_timeout`` where a module has it) before any client is built or call made."""
    check_api_url(params.get("api_url"))
    check_mdm_options(params)
    for option in ("timeout", "wait_timeout"):
        value = params.get(option)
        if value is not None and value <= 0:
            raise ConfigurationError(
                "%s must be more than 0 seconds, got %s" % (option, value), hint="give %s in seconds" % option
            )
    retries = params.get("retries")
    if retries is not None and retries < 0:
        raise ConfigurationError(
            "retries must be 0 or more, got %s" % retries, hint="give how often to retry a failed request (default 5)"
        )


def option_value(params, path):
    """The value of option ``path`` ("name", or "collection.name" for a suboption); ``None`` when not given."""
    value = params
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def censored(value, secrets):
    """``value`` (a result: dicts, lists, strings) with every secret in ``secrets`` replaced by the no-log mask.

    Done here instead of through ``AnsibleModule.no_log_values``: Ansible searches every string of a result for
    every registered value, (strings x secrets) work that took minutes for one sync of 3,000 tokens
    (docs/BENCHMARKS.md, B4). A string shorter than the shortest secret cannot hold one and is not searched.
    """
    secrets = [secret for secret in secrets if secret]
    if not secrets:
        return value
    return _censor(value, secrets, min(len(secret) for secret in secrets))


def _censor(value, secrets, shortest):
    if isinstance(value, str):
        if len(value) >= shortest:
            for secret in secrets:
                value = value.replace(secret, NO_LOG_MASK)
        return value
    if isinstance(value, dict):
        return {_censor(key, secrets, shortest): _censor(item, secrets, shortest) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_censor(item, secrets, shortest) for item in value)
    return value


def common_argspec(argument_spec=None):
    """The common options merged with a module's own (the module's definition wins on a name clash)."""
    spec = {name: dict(option) for name, option in VPP_COMMON_ARGSPEC.items()}
    spec.update(argument_spec or {})
    return spec


class VPPModule:
    """Wraps ``AnsibleModule`` with the collection's common options, store, clients and error handling.

    ``names``: the module's options (``"collection.name"`` for a suboption) that name something it creates; each
    is checked by ``check_name``, and the common options by ``check_common_options``, before anything else runs.
    """

    def __init__(self, argument_spec=None, names=(), **kwargs):
        self._module = AnsibleModule(argument_spec=common_argspec(argument_spec), **kwargs)
        unsupported = unsupported_controller()
        if unsupported:
            self._module.fail_json(msg=unsupported)
        untested = untested_controller()
        if untested:
            self._module.warn(untested)
        if not HAS_REQUESTS:
            self._module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        self._store = None
        self._mdm = None
        self._clients = []
        self._pool = None  # the keep-alive connections the clients share (share_connections)
        self._secrets = set()  # decrypted content tokens: censored from every result, failure and warning
        # the sync engine builds clients from worker threads: guard the client list and the censored values
        self._clients_lock = threading.Lock()
        try:
            check_common_options(self.params)
            for option in names:
                check_name(option, option_value(self.params, option))
        except VPPError as err:
            self.fail_from_error(err)

    # --- what modules use from AnsibleModule ---

    @property
    def params(self):
        return self._module.params

    @property
    def check_mode(self):
        return self._module.check_mode

    @property
    def diff_mode(self):
        return self._module._diff

    @property
    def ansible_module(self):
        """The wrapped ``AnsibleModule``, for the rare call this class does not forward."""
        return self._module

    def warn(self, message):
        self._module.warn(censored(message, self._secrets))

    def exit_json(self, **result):
        self._close()
        self._module.exit_json(**censored(result, self._secrets))

    def fail_json(self, **result):
        self._close()
        result = censored(result, self._secrets)
        self._module.fail_json(**result)

    # --- store and clients ---

    @property
    def store(self):
        """The state store, opened on first use (never created: see ``open_store``)."""
        return self.open_store()

    def open_store(self, create=False):
        """The state store, opened on first use; warns once if a new store key was generated.

        Only registering a token (``vpp_token``) passes ``create=True``; in check mode a store is never created.
        Any other first use of a store that does not exist fails with "no store at PATH".
        """
        if self._store is None:
            # imported here so modules that never touch the store do not pay for (or depend on) it
            from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store

            create = create and not self.check_mode
            self._store = open_store(
                self.params["store"], self.params["store_key"], create=create, upgrade=not self.check_mode
            )
            if getattr(self._store, "key_generated", False):
                self.warn(
                    "a new store key was generated and written to %s: back it up, the stored tokens cannot be "
                    "decrypted without it" % self._store.key_file
                )
        return self._store

    def censor(self, secret):
        """Censor ``secret`` (a notification secret read from the store or generated) in every output."""
        if secret:
            with self._clients_lock:
                self._secrets.add(secret)

    def client_for(self, token_secret, allow_takeover=False, **overrides):
        """A ``VPPClient`` for one content token, with the common options and this store's manager id."""
        # a token decrypted from the store is as secret as a no_log option: censor it in every output
        with self._clients_lock:
            self._secrets.add(token_secret)
        options = {
            "manager_id": self.store.manager_id,
            "allow_takeover": allow_takeover,
            "validate_certs": self.params["validate_certs"],
            "timeout": self.params["timeout"],
            "retries": self.params["retries"],
            "ca_path": self.params["ca_path"],
            "poll_interval": self.params["event_poll_interval"],
            "pool": self._pool,
        }
        options.update(overrides)
        client = VPPClient(self.params["api_url"], token_secret, **options)
        with self._clients_lock:
            self._clients.append(client)
        return client

    def share_connections(self, parallel, token_count):
        """How many of ``token_count`` tokens talk to Apple at once (``parallel`` as asked, else derived from the
        count: ``parallel.resolve_parallel``); the clients built from now on share one keep-alive pool sized for
        them.

        Each token has up to ``MAX_PAGES_IN_FLIGHT`` pages and one other request in flight; a token done hands its
        connections to the next one, so 3,000 tokens open about as many connections as ``parallel`` of them do.
        """
        parallel = resolve_parallel(parallel, token_count)
        if self._pool is None:
            self._pool = new_connection_pool(max(parallel, 1) * (MAX_PAGES_IN_FLIGHT + 1))
        return parallel

    @property
    def mdm(self):
        """The MDM server's client (``mdm.MDMClient``), built on first use; ``None`` without ``mdm_type``."""
        params = self.params
        if self._mdm is None and params.get("mdm_type"):
            self._mdm = open_mdm(
                params["mdm_type"],
                params["mdm_url"],
                params["mdm_api_key"],
                validate_certs=params["mdm_validate_certs"],
                ca_path=params["mdm_ca_path"],
                timeout=params["timeout"],
                retries=params["retries"],
            )
        return self._mdm

    def request_stats(self):
        """Requests sent to Apple by every client of this run: ``{"total": n, "by_endpoint": {...}}``."""
        by_endpoint = {}
        for client in self._clients:
            for endpoint, count in client.requests_by_endpoint.items():
                by_endpoint[endpoint] = by_endpoint.get(endpoint, 0) + count
        return {"total": sum(by_endpoint.values()), "by_endpoint": by_endpoint}

    # --- running ---

    def fail_from_error(self, err):
        """Fail the module with a ``VPPError``'s message, Apple's error number and HTTP status."""
        self.fail_json(**err.to_result())

    def run(self, fn):
        """Call ``fn(self)``, exit with the result dict it returns, and fail cleanly on any error."""
        try:
            result = fn(self)
        except VPPError as err:
            self.fail_from_error(err)
        except Exception as err:  # a bug must still end as a readable failure, not a raw traceback
            # no_log options (AnsibleModule) and the tokens of client_for (censored()) never reach msg or exception
            self.fail_json(
                msg="unexpected error in mdm.vpp (%s): %s" % (type(err).__name__, err), exception=traceback.format_exc()
            )
        result = dict(result or {})
        result.setdefault("changed", False)
        self.exit_json(**result)

    def _close(self):
        for client in self._clients:
            client.close()
        self._clients = []
        if self._pool is not None:
            close_connection_pool(self._pool)
            self._pool = None
        if self._mdm is not None:
            self._mdm.close()
            self._mdm = None
        close = getattr(self._store, "close", None)
        if close is not None:
            close()
        self._store = None
