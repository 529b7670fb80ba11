#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vpp_sync
short_description: Synchronise Apple Apps and Books licenses into the mdm.vpp store
version_added: 0.1.0
description:
  - Brings the store in step with Apple for every registered location token (or the ones named in O(tokens)),
    that is the apps and books bought with their license counts, who holds which license (assignments), and the
    users.
  - A V(full) sync reads every page from Apple and finds removals. An V(incremental) sync reads the apps (Apple has
    no delta for them) and only the assignments and users changed since the last sync (Apple's C(versionId)).
    V(auto), for schedules, is incremental unless no full sync happened within O(full_sync_interval_days).
  - An incremental sync falls back to a full one, with a warning, when Apple rejects the stored C(versionId) (for
    example after a store restore) or when the store holds assignments that Apple no longer counts (removals,
    which Apple's deltas never report).
  - Per token, the store changes in one transaction, under the token's lock; every change is written to the audit
    log (who gained or lost which license, user changes, license count changes per app), with one run id per task.
  - A token that fails (expired, revoked, taken over by another device-management service, Apple unreachable) does
    not stop the others. The task fails at the end, naming each failed token and why, and still returns every
    token's outcome. An expired, revoked or taken-over token gets that status in the store.
  - Looks up the name, bundle id, version, icon and platforms of apps that have none yet (O(metadata)).
author:
  - mdm.vpp contributors (@mdm-vpp)
options:
  tokens:
    description:
      - Names of the tokens to synchronise, as registered with M(mdm.vpp.vpp_token).
      - All registered tokens when not set. A name that is not registered fails for that token only.
    type: list
    elements: str
  mode:
    description:
      - V(full) reads everything from Apple and finds removals; a sync asked by hand is full.
      - V(incremental) asks Apple only for the assignments and users changed since the last sync (a token never
        synced is synced in full).
      - V(auto) is for schedules, incremental unless the last full sync is older than O(full_sync_interval_days)
        or the token was never synced.
    type: str
    choices: [full, incremental, auto]
    default: full
  full_sync_interval_days:
    description:
      - With O(mode=auto), a token whose last full sync is this many days old or older is synced in full.
    type: int
    default: 7
  parallel:
    description:
      - How many tokens are synchronised at once. Requests of each token stay under Apple's per-token rate limit
        whatever this value.
      - Unset (the default), one token per thread up to 64 at once (fewer tokens, fewer threads) - at Apple's
        latency a token mostly waits for answers, so 3,000 tokens take about a minute, not 8 at 4 at once.
      - Set it lower to spare a small control node, higher (each token uses up to 6 connections) to go faster
        when the node has CPU to spare.
    type: int
  metadata:
    description:
      - Look up the name, bundle id, version, icon and platforms of apps that have no metadata yet, in batches.
      - A failed lookup is only a warning; those apps are looked up again on the next sync.
    type: bool
    default: true
extends_documentation_fragment:
  - mdm.vpp.vpp
  - mdm.vpp.mdm
  - mdm.vpp.vpp.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads everything from Apple and reports the drift (what a real run would add, change and remove) without
        writing anything to the store.
  diff_mode:
    support: full
    details:
      - Shows, per token, how many assignments and users the store holds and each app's assigned and total
        licenses, before and after the sync.
      - Apps are named by their catalogue name, adamId and pricing parameter (C(Pages (1000000108, STDQ))), by
        adamId and pricing parameter alone (C(1000000108 (STDQ))) when the catalogue has no name for them.
notes:
  - The assignments and users of a token's first synchronisation are not written to the audit log one by one (they
    are an import, not a change); license counts of the apps are.
seealso:
  - module: mdm.vpp.vpp_token
  - module: mdm.vpp.vpp_token_info
"""

EXAMPLES = r"""
- name: Synchronise every token in full (what a manual sync does)
  mdm.vpp.vpp_sync:

- name: Scheduled sync - only changes, and a full sync once a week
  mdm.vpp.vpp_sync:
    mode: auto
    full_sync_interval_days: 7
  register: sync

- name: Show what changed per token
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.mode }} ({{ item.mode_reason }}), +{{ item.assignments.added }}
      -{{ item.assignments.removed }} licenses"
  loop: "{{ sync.tokens }}"
  loop_control:
    label: "{{ item.name }}"

- name: What would a full sync of two tokens change? (reads Apple, writes nothing)
  mdm.vpp.vpp_sync:
    tokens: [hq, lyon-school]
  check_mode: true
  register: drift

- name: Keep syncing the tokens that work, then report the ones that failed
  mdm.vpp.vpp_sync:
    mode: incremental
  register: sync
  ignore_errors: true

- name: Failed tokens
  ansible.builtin.debug:
    msg: "{{ sync.tokens | selectattr('status', 'eq', 'failed') | map(attribute='msg') | list }}"
"""

RETURN = r"""
run_id:
  description: Identifier of this synchronisation; every audit entry it wrote carries it.
  returned: always
  type: str
  sample: 0b6f7f0e-2a7b-4c89-9d4e-3c0f5f1e2d11
tokens:
  description: The outcome of each token, in the order of O(tokens) (or by name).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the token.
      type: str
      sample: hq
    status:
      description: V(ok) when the token was synchronised, V(failed) when not (see RV(tokens[].msg)).
      type: str
      sample: ok
    msg:
      description: Why the token failed, and what to do.
      returned: when RV(tokens[].status=failed)
      type: str
      sample: "GET /client/config: Apple refused the request (error 9625, HTTP 401): token revoked: download the
        current content token ..."
    error_number:
      description: Apple's error number, when Apple gave one.
      returned: when failed with an error from Apple
      type: int
      sample: 9625
    mode:
      description: V(full) or V(incremental), as actually done; V(null) if the token failed before.
      type: str
      sample: incremental
    mode_reason:
      description:
        - "Why that mode: V(requested), V(auto: last full sync 2 days ago), V(auto: never synced),
          V(fallback: Apple rejected the stored versionId), V(fallback: the store holds assignments Apple no longer
          counts) or V(fallback: no stored versionId to ask Apple for changes)."
      type: str
      sample: "auto: last full sync 2 days ago"
    token_status:
      description:
        - The token's status after the sync (V(valid), V(expiring), V(expired), V(revoked), V(invalid),
          V(claimed_elsewhere)), as M(mdm.vpp.vpp_token_info) reports it.
      type: str
      sample: valid
    changed:
      description: Whether this token's data in the store changed (in check mode, would change).
      type: bool
      sample: true
    assets:
      description: Apps and books added, changed (counts or properties) and removed.
      type: dict
      sample: {added: 1, changed: 2, removed: 0}
    assignments:
      description: Licenses gained (V(added)) and lost (V(removed)) by users and devices; V(changed) is always 0.
      type: dict
      sample: {added: 12, changed: 0, removed: 3}
    users:
      description: Users added, changed (status, email, invitation, Apple Account) and removed.
      type: dict
      sample: {added: 2, changed: 1, removed: 0}
    license_count_changes:
      description:
        - Per app whose license counts changed, the counts before and after (V(null) for an app that appeared or
          disappeared) and the difference.
        - V(name) is the app's name in Apple's catalogue (V(null) when unknown, for example with O(metadata=false)
          on a first sync).
      type: list
      elements: dict
      sample:
        - adam_id: "1000000001"
          pricing_param: STDQ
          name: Pages
          before: {total_count: 50, assigned_count: 2, available_count: 48, retired_count: 0}
          after: {total_count: 55, assigned_count: 2, available_count: 53, retired_count: 0}
          delta: {total_count: 5, assigned_count: 0, available_count: 5, retired_count: 0}
    facts_changed:
      description: Token facts Apple reported differently from the store (location name, country, claim...).
      type: list
      elements: str
      sample: [location_name]
    metadata:
      description: How many apps without metadata were looked up, and how many Apple knew.
      type: dict
      sample: {looked_up: 3, found: 3}
    requests:
      description: Requests this token's sync sent, in total and per endpoint.
      type: dict
      sample: {total: 4, by_endpoint: {"GET /client/config": 1, "GET /assets": 1, "GET /assignments": 1,
               "GET /users": 1}}
    duration:
      description: Seconds this token took.
      type: float
      sample: 0.42
    warnings:
      description: What deserves attention (fallback to a full sync, expiry soon, metadata not found).
      type: list
      elements: str
      sample: ["Apple rejected the stored versionId (the store may have been restored): synced in full"]
totals:
  description: Sums over every token.
  returned: always
  type: dict
  contains:
    tokens:
      description: Tokens attempted.
      type: int
      sample: 3
    succeeded:
      description: Tokens synchronised.
      type: int
      sample: 2
    failed:
      description: Tokens that failed.
      type: int
      sample: 1
    assets:
      description: Sum of RV(tokens[].assets).
      type: dict
      sample: {added: 1, changed: 2, removed: 0}
    assignments:
      description: Sum of RV(tokens[].assignments).
      type: dict
      sample: {added: 12, changed: 0, removed: 3}
    users:
      description: Sum of RV(tokens[].users).
      type: dict
      sample: {added: 2, changed: 1, removed: 0}
    license_count_changes:
      description: Number of apps whose license counts changed.
      type: int
      sample: 2
    requests:
      description: Requests sent to Apple, in total and per endpoint.
      type: dict
      sample: {total: 12, by_endpoint: {"GET /client/config": 3}}
    duration:
      description: Seconds the whole task took.
      type: float
      sample: 1.3
"""

from ansible_collections.mdm.vpp.plugins.module_utils.module import VPPModule
from ansible_collections.mdm.vpp.plugins.module_utils.parallel import DEFAULT_PARALLEL
from ansible_collections.mdm.vpp.plugins.module_utils.sync import run_module
from ansible_collections.mdm.vpp.plugins.module_utils.sync_decisions import (
    DEFAULT_FULL_SYNC_INTERVAL_DAYS,
    DEFAULT_MODE,
    MODES,
)

ARGUMENT_SPEC = {
    "tokens": {"type": "list", "elements": "str", "no_log": False},  # token names, not secrets
    "mode": {"type": "str", "choices": list(MODES), "default": DEFAULT_MODE},
    "full_sync_interval_days": {"type": "int", "default": DEFAULT_FULL_SYNC_INTERVAL_DAYS},
    "parallel": {"type": "int", "default": DEFAULT_PARALLEL},
    "metadata": {"type": "bool", "default": True},
}


def main():
    VPPModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(run_module)


if __name__ == "__main__":
    main()
