# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options and attributes shared by every mdm.vpp module, documented once.

Use ``mdm.vpp.vpp`` for the common options, ``mdm.vpp.vpp.attributes`` for the attribute descriptions (each
module then states its own ``support`` for ``check_mode`` and ``diff_mode``), and
``mdm.vpp.vpp.check_mode_read_only`` for ``*_info`` modules.
"""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  store:
    description:
      - Where the collection keeps its state (registered tokens, synced licenses, deployments, submitted events).
      - A file path or C(sqlite:///path) selects a SQLite file; a C(postgresql://) DSN selects PostgreSQL.
      - If not set, the value of the E(VPP_STORE) environment variable is used, else
        C(~/.local/share/mdm.vpp/vpp.db).
      - Only M(mdm.vpp.vpp_token) registering a token (not in check mode) creates a store. Every other module, and
        check mode everywhere, fails with C(no store at PATH) when it does not exist, and writes nothing.
      - A file that is empty or not an SQLite database, and a symbolic link to nothing, are refused.
    type: str
  store_key:
    description:
      - Key that encrypts the content tokens stored in O(store).
      - If not set, the value of the E(VPP_STORE_KEY) environment variable is used. For a SQLite store without a
        key, one is generated and written next to the database file (C(<store>.key)), and the module warns once.
    type: str
  api_url:
    description:
      - Base URL of Apple's App and Book Management service (version 2).
      - Change it only to point at a test service such as the collection's simulator.
      - Must be an C(https://) URL; plain C(http://) is accepted only for a loopback host (C(127.0.0.0/8),
        C(::1), C(localhost)), since the content token travels in a request header.
      - If not set, the value of the E(VPP_API_URL) environment variable is used.
    type: str
    default: https://vpp.itunes.apple.com/mdm/v2
  validate_certs:
    description:
      - Whether to verify the TLS certificate of O(api_url).
      - Set to V(false) only for a local test service.
      - If not set, the value of the E(VPP_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - CA bundle used to verify the TLS certificate of O(api_url) instead of the system store.
      - If not set, the value of the E(VPP_CA_PATH) environment variable is used.
    type: path
  timeout:
    description:
      - Seconds to wait for each answer from Apple; more than 0.
      - If not set, the value of the E(VPP_TIMEOUT) environment variable is used.
    type: int
    default: 30
  retries:
    description:
      - How many times a request is retried when Apple throttles it (HTTP 429), answers with a server error,
        or the connection drops. Waits grow exponentially with jitter and honour C(Retry-After).
      - 0 or more; 0 sends each request once.
      - If not set, the value of the E(VPP_RETRIES) environment variable is used.
    type: int
    default: 5
  event_poll_interval:
    description:
      - Seconds between two reads of an Apple event that is still pending (a deployment's or a revocation's).
        Apple asks for at least 30 seconds, after a first read soon after submitting; lower it only against a
        test service such as the collection's simulator.
      - If not set, the value of the E(VPP_EVENT_POLL_INTERVAL) environment variable is used.
    type: float
    default: 30
requirements:
  - requests >= 2.28
notes:
  - Apple's limits (batch sizes, requests per second) are read from Apple's service configuration and never
    hard-coded; requests for one content token are paced under Apple's C(maxRequestPerSecond).
  - Content tokens and O(store_key) never appear in results, diffs, logs or error messages.
"""

    ATTRIBUTES = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/mdm.vpp.vpp) in C(module_defaults) to set the common options for every module.
    support: full
    membership:
      - mdm.vpp.vpp
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying Apple or the store.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff
      mode; secrets are removed from the diff.
  platform:
    description: Runs on the Ansible controller (or an execution environment) and talks to Apple over HTTPS.
    support: full
    platforms: controller
"""

    CHECK_MODE_READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    support: full
    description: This module only reads and behaves the same with or without check mode.
  diff_mode:
    support: N/A
    description: This module only reads; there is nothing to diff.
"""
