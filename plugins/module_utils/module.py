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

import threading
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.mdm.vpp.plugins.module_utils.client import (
    DEFAULT_API_URL,
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    VPPClient,
)
from ansible_collections.mdm.vpp.plugins.module_utils.errors import VPPError

VPP_COMMON_ARGSPEC = {
    "store": {"type": "str", "fallback": (env_fallback, ["VPP_STORE"])},
    "store_key": {"type": "str", "no_log": True, "fallback": (env_fallback, ["VPP_STORE_KEY"])},
    "api_url": {"type": "str", "default": DEFAULT_API_URL, "fallback": (env_fallback, ["VPP_API_URL"])},
    "validate_certs": {"type": "bool", "default": True, "fallback": (env_fallback, ["VPP_VALIDATE_CERTS"])},
    "ca_path": {"type": "path", "fallback": (env_fallback, ["VPP_CA_PATH"])},
    "timeout": {"type": "int", "default": 30, "fallback": (env_fallback, ["VPP_TIMEOUT"])},
    "retries": {"type": "int", "default": 5, "fallback": (env_fallback, ["VPP_RETRIES"])},
    "event_poll_interval": {"type": "float", "default": 30.0, "fallback": (env_fallback, ["VPP_EVENT_POLL_INTERVAL"])},
}


NO_LOG_MASK = "********"  # what Ansible puts in place of a no_log value


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
    """Wraps ``AnsibleModule`` with the collection's common options, store, clients and error handling."""

    def __init__(self, argument_spec=None, **kwargs):
        self._module = AnsibleModule(argument_spec=common_argspec(argument_spec), **kwargs)
        if not HAS_REQUESTS:
            self._module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        self._store = None
        self._clients = []
        self._secrets = set()  # decrypted content tokens: censored from every result, failure and warning
        # the sync engine builds clients from worker threads: guard the client list and the censored values
        self._clients_lock = threading.Lock()

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
        """The state store, opened on first use; warns once if a new store key was generated."""
        if self._store is None:
            # imported here so modules that never touch the store do not pay for (or depend on) it
            from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store

            self._store = open_store(self.params["store"], self.params["store_key"])
            if getattr(self._store, "key_generated", False):
                self.warn(
                    "a new store key was generated and written to %s: back it up, the stored tokens cannot be "
                    "decrypted without it" % self._store.key_file
                )
        return self._store

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
        }
        options.update(overrides)
        client = VPPClient(self.params["api_url"], token_secret, **options)
        with self._clients_lock:
            self._clients.append(client)
        return client

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
        close = getattr(self._store, "close", None)
        if close is not None:
            close()
        self._store = None
