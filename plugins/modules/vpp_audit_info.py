#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vpp_audit_info
short_description: Read the audit trail of Apple Apps and Books licenses, newest first
version_added: 0.2.0
description:
  - Lists the entries of the store's audit trail, newest first, each one change of a token's licensed data, as
    synchronisations (M(mdm.vpp.vpp_sync), O(mdm.vpp.vpp_app_info#module:refresh)) found it at Apple or as this
    collection's deployments made it (M(mdm.vpp.vpp_deployment)). A license assigned or taken back, license counts
    that moved, a user registered, changed or removed.
  - Each entry says when, which token and app, who (V(apple), found by a sync, so made outside this collection, or
    V(local), made by this collection), the run that recorded it and what changed, in words (RV(entries[].summary)).
  - Filters by token, app, member, time, run and kind; at most O(limit) entries, with RV(truncated) when older ones
    match too.
  - Reads the store only; nothing is asked of Apple and nothing is written. The first synchronisation of a token is
    an import, not a change; it records each app's counts (V(asset_count_changed), licenses bought) but no entry per
    license or user.
author:
  - mdm.vpp contributors (@mdm-vpp)
options:
  tokens:
    description:
      - Only the entries of these tokens (names registered with M(mdm.vpp.vpp_token)); all tokens when not set.
      - A name that is not registered fails the task.
    type: list
    elements: str
  adam_id:
    description:
      - Only the entries of this app (Apple's product id, the C(adamId)); quote it in YAML.
    type: str
  member:
    description:
      - Only the entries of this license holder or user, a device's serial number or a user's C(clientUserId).
    type: str
  since:
    description:
      - Only the entries recorded at or after this time, an ISO 8601 date (V(2026-11-25)), date and time
        (V(2026-11-25T08:00:00Z); UTC unless an offset is given), or an age before now, V(30m), V(24h), V(7d), V(2w).
    type: str
  run_id:
    description:
      - Only the entries of one run, the RV(mdm.vpp.vpp_sync#module:run_id) a synchronisation returned.
    type: str
  kinds:
    description:
      - Only the entries of these kinds.
    type: list
    elements: str
    choices: [assignment_added, assignment_removed, user_added, user_changed, user_removed, asset_count_changed]
  limit:
    description:
      - At most this many entries, the newest; RV(truncated) says when older entries match too.
    type: int
    default: 100
extends_documentation_fragment:
  - mdm.vpp.vpp
  - mdm.vpp.mdm
  - mdm.vpp.vpp.check_mode_read_only
  - mdm.vpp.vpp.attributes
notes:
  - Users' invitation codes are never shown (V((hidden)) in RV(entries[].before) and RV(entries[].after)); no secret
    is ever in the trail.
seealso:
  - module: mdm.vpp.vpp_sync
  - module: mdm.vpp.vpp_app_info
  - module: mdm.vpp.vpp_deployment
"""

EXAMPLES = r"""
- name: The 100 newest changes
  mdm.vpp.vpp_audit_info:
  register: audit

- name: What happened to Pages at hq this week
  mdm.vpp.vpp_audit_info:
    tokens: [hq]
    adam_id: "361309726"
    since: 7d
  register: pages_week

- name: Print it
  ansible.builtin.debug:
    msg: "{{ item.recorded_at }} {{ item.who }}: {{ item.summary }}"
  loop: "{{ pages_week.entries }}"
  loop_control:
    label: "{{ item.kind }}"

- name: Who gave a device its licenses, and when (before reclaiming an untracked one)
  mdm.vpp.vpp_audit_info:
    member: C02XK0AAJG5H
    kinds: [assignment_added, assignment_removed]

- name: What the last sync changed
  mdm.vpp.vpp_sync:
  register: sync

- name: Its entries
  mdm.vpp.vpp_audit_info:
    run_id: "{{ sync.run_id }}"
    limit: 1000
"""

RETURN = r"""
entries:
  description: The audit entries that match, newest first, at most O(limit).
  returned: always
  type: list
  elements: dict
  contains:
    recorded_at:
      description: When the change was recorded (ISO 8601, UTC).
      type: str
      sample: "2026-11-25T08:00:00+00:00"
    token:
      description: Name of the token.
      type: str
      sample: hq
    kind:
      description:
        - V(assignment_added), V(assignment_removed) (a license), V(asset_count_changed) (an app's license counts),
          V(user_added), V(user_changed), V(user_removed) (a user of the location).
      type: str
      sample: assignment_added
    origin:
      description:
        - V(apple) when a synchronisation found the change at Apple (made by another tool, in Apple's portal, or a
          purchase), V(local) when this collection made it.
      type: str
      sample: apple
    who:
      description: The origin in words, V(Apple (found by a sync)) or V(mdm.vpp).
      type: str
      sample: Apple (found by a sync)
    run_id:
      description: The run that recorded it (a synchronisation's RV(mdm.vpp.vpp_sync#module:run_id)); V(null) if none.
      type: str
      sample: 6f1d2c3b-0d4e-4f5a-8b9c-0a1b2c3d4e5f
    adam_id:
      description: Apple's product id of the app; V(null) for a user's entry.
      type: str
      sample: "361309726"
    pricing_param:
      description: V(STDQ) or V(PLUS); V(null) for a user's entry.
      type: str
      sample: STDQ
    app:
      description: Name of the app in Apple's catalogue; V(null) when not known.
      type: str
      sample: Pages
    target_kind:
      description: V(device) or V(user) for a license or a user; V(null) for license counts.
      type: str
      sample: device
    target_id:
      description: The serial number or the client user id; V(null) for license counts.
      type: str
      sample: C02XK0AAJG5H
    before:
      description: The counts or the user before the change; V(null) for an addition or a license.
      type: dict
      sample: {total_count: 50, assigned_count: 12, available_count: 38, retired_count: 0}
    after:
      description: The counts or the user after the change; V(null) for a removal or a license.
      type: dict
      sample: {total_count: 60, assigned_count: 12, available_count: 48, retired_count: 0}
    summary:
      description: What changed, in words.
      type: str
      sample: "licenses total 50 -> 60, available 38 -> 48"
truncated:
  description: Whether older entries match the filters too (raise O(limit) or narrow the filters to see them).
  returned: always
  type: bool
  sample: false
since:
  description: The O(since) applied, as an ISO 8601 UTC time; V(null) without O(since).
  returned: always
  type: str
  sample: "2026-11-18T08:00:00+00:00"
"""

from ansible_collections.mdm.vpp.plugins.module_utils.audit import AUDIT_KINDS, list_audit
from ansible_collections.mdm.vpp.plugins.module_utils.module import VPPModule

ARGUMENT_SPEC = {
    "tokens": {"type": "list", "elements": "str", "no_log": False},  # token names, not secrets
    "adam_id": {"type": "str"},
    "member": {"type": "str"},
    "since": {"type": "str"},
    "run_id": {"type": "str"},
    "kinds": {"type": "list", "elements": "str", "choices": list(AUDIT_KINDS)},
    "limit": {"type": "int", "default": 100},
}


def main():
    VPPModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(list_audit)


if __name__ == "__main__":
    main()
