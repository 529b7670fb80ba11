#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vpp_app_info
short_description: List the apps and books licensed through Apple Apps and Books location tokens
version_added: 0.1.0
description:
  - Lists, per location token, the apps and books the organisation holds licenses for, with their license counts
    (total, assigned, available, retired), how many licenses this collection's install deployments hold
    (RV(apps[].deployed)), the application made from each one with M(mdm.vpp.vpp_app), and whether it runs low.
  - Reads the store, as the last M(mdm.vpp.vpp_sync) left it; with O(refresh=true) it synchronises the tokens
    concerned first.
  - Filters by token, platform, product type, adamId and name pattern; O(query) shapes the result with a JMESPath
    expression.
  - With O(holders=true), each app also lists who holds its licenses (RV(apps[].holders)), each user or device and
    the deployment of this collection that gave it, or none (untracked, given by another tool, by hand, or by a
    deployment forgotten without reclaiming).
  - The list comes from one query of the store whatever the number of apps (and one more for the holders).
author:
  - mdm.vpp contributors (@mdm-vpp)
options:
  tokens:
    description:
      - Only the apps of these tokens (names registered with M(mdm.vpp.vpp_token)).
      - Names that are not registered are left out, with a warning. All tokens when not set.
    type: list
    elements: str
  platform:
    description:
      - Only the apps that support this platform, for example V(iOS) or V(macOS) (case-insensitive).
    type: str
  product_type:
    description:
      - Only apps (V(App)) or only books (V(Book)).
    type: str
    choices: [App, Book]
  name:
    description:
      - Only the apps whose name or bundle id matches this shell-style pattern (V(*), V(?), V([seq])),
        case-insensitive, for example V(Pages), V(key*) or V(com.apple.*).
      - Apps whose name is not known yet (no metadata) match on their bundle id only.
    type: str
  adam_id:
    description:
      - Only this app (Apple's product id, the C(adamId)); quote it in YAML.
    type: str
  low_license_threshold:
    description:
      - Report an app as RV(apps[].low) when its available licenses are below this threshold, either a number of
        licenses (V(5)) or a percentage of its total (V("10%")).
      - An app with no license left is low for any threshold above 0; unlimited (free) apps are never low.
      - When not set, no app is reported low.
    type: raw
  query:
    description:
      - A JMESPath expression applied to the list of apps; RV(apps) then holds its result instead of the list.
      - "For example V([?low].{name: name, available: available}) or V(sort_by(@, &available\\)[:5])."
      - Needs the Python library C(jmespath) on the controller.
    type: str
  refresh:
    description:
      - Synchronise the tokens concerned (O(tokens), or all of them) with Apple before listing, as
        M(mdm.vpp.vpp_sync) with C(mode=auto) does (only changes, in full once a week), writing the synchronised
        data to the store.
      - A token that cannot be synchronised is listed as last synchronised, with a warning.
      - In check mode the synchronisation reads Apple and reports in RV(refresh) what it would change, but writes
        nothing, so the list shows the store as it was.
    type: bool
    default: false
  holders:
    description:
      - Add to each app who holds its licenses according to the last synchronisation (RV(apps[].holders)),
        untracked holders first, with RV(apps[].holders_total) and RV(apps[].holders_truncated).
      - Holders come from the store's synchronised assignments; run M(mdm.vpp.vpp_sync) (or set O(refresh=true))
        for today's picture.
    type: bool
    default: false
  holders_limit:
    description:
      - With O(holders=true), list at most this many holders per app (untracked ones first), so that a listing of
        thousands of apps stays small; RV(apps[].holders_total) still counts them all.
      - V(0) lists none, only their number.
    type: int
    default: 1000
extends_documentation_fragment:
  - mdm.vpp.vpp
  - mdm.vpp.mdm
  - mdm.vpp.vpp.attributes
attributes:
  check_mode:
    support: full
    details:
      - Lists the same apps. With O(refresh=true), the synchronisation writes nothing in check mode.
  diff_mode:
    support: none
    details:
      - This module reports; it changes nothing to diff.
notes:
  - C(changed) is always V(false), also when O(refresh=true) wrote newly synchronised data to the store.
requirements:
  - jmespath (only for O(query))
seealso:
  - module: mdm.vpp.vpp_app
  - module: mdm.vpp.vpp_sync
"""

EXAMPLES = r"""
- name: Every licensed app and book
  mdm.vpp.vpp_app_info:
  register: vpp_apps

- name: iOS apps of two tokens that are below 10% of their licenses, synchronised first
  mdm.vpp.vpp_app_info:
    tokens: [hq, lyon-school]
    platform: iOS
    product_type: App
    low_license_threshold: "10%"
    refresh: true
  register: ios_apps

- name: Alert on apps with fewer than 5 licenses left
  ansible.builtin.debug:
    msg: "{{ item.name }} ({{ item.token }}): {{ item.available }} left"
  loop: "{{ ios_apps.apps | selectattr('low') | list }}"
  loop_control:
    label: "{{ item.adam_id }}"

- name: Names and free licenses of the Apple apps, fullest first (JMESPath)
  mdm.vpp.vpp_app_info:
    name: "com.apple.*"
    query: "reverse(sort_by(@, &percent_used))[].{name: name, token: token, available: available}"
  register: apple_apps

- name: One app, by its adamId
  mdm.vpp.vpp_app_info:
    adam_id: "361309726"

- name: Who holds the licenses of Pages, untracked holders first
  mdm.vpp.vpp_app_info:
    tokens: [hq]
    adam_id: "361309726"
    holders: true
  register: pages

- name: Reclaim the device licenses no deployment of this collection gave (an uninstall deployment)
  mdm.vpp.vpp_deployment:
    name: pages-reclaim-untracked
    application: Pages (hq)
    action: uninstall
    collection:
      name: Untracked Pages devices
      type: device
      members: "{{ pages.apps[0].holders | rejectattr('tracked') | selectattr('kind', 'equalto', 'device')
        | map(attribute='id') | list }}"
  when: pages.apps[0].untracked > 0
"""

RETURN = r"""
apps:
  description:
    - The licensed apps and books, sorted by token, then name, adamId and pricing param.
    - With O(query), the result of the query instead (whatever JMESPath returns for the list).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the app or book in Apple's catalogue; V(null) until a synchronisation finds it.
      type: str
      sample: Pages
    adam_id:
      description: Apple's product id.
      type: str
      sample: "361309726"
    pricing_param:
      description: V(STDQ) (standard) or V(PLUS) (high quality); with the adamId it names the asset.
      type: str
      sample: STDQ
    bundle_id:
      description: Bundle identifier; V(null) when not known.
      type: str
      sample: com.apple.Pages
    version:
      description: Version in the catalogue; V(null) when not known.
      type: str
      sample: "14.1"
    icon_url:
      description: URL of the artwork; V(null) when not known.
      type: str
      sample: https://is1-ssl.mzstatic.com/image/thumb/pages.png
    token:
      description: Name of the token that licenses it.
      type: str
      sample: hq
    token_type:
      description: V(business) or V(education).
      type: str
      sample: business
    product_type:
      description: V(App) or V(Book).
      type: str
      sample: App
    platforms:
      description: Platforms it supports.
      type: list
      elements: str
      sample: [iOS, macOS]
    device_assignable:
      description: Whether a license can go to a device (serial number); books cannot.
      type: bool
      sample: true
    revocable:
      description: Whether a license can be taken back; books cannot.
      type: bool
      sample: true
    unlimited:
      description: Whether it is free with unlimited licenses (its total is then Apple's 2147483647).
      type: bool
      sample: false
    total:
      description: Licenses owned.
      type: int
      sample: 50
    assigned:
      description: Licenses assigned to users or devices, by anyone.
      type: int
      sample: 12
    available:
      description: Licenses free to assign.
      type: int
      sample: 38
    retired:
      description: Licenses retired.
      type: int
      sample: 0
    deployed:
      description: Licenses held by the members of this collection's install deployments (state V(licensed)).
      type: int
      sample: 10
    installed:
      description:
        - Members of this collection's install deployments (state V(licensed)) whose device confirmed the app
          installed through the MDM server (install state V(installed); see M(mdm.vpp.vpp_deployment)
          O(mdm.vpp.vpp_deployment#module:install_via)). 0 without an MDM server.
      type: int
      sample: 9
    untracked:
      description:
        - Licenses assigned at Apple that no deployment of this collection accounts for (RV(apps[].assigned) minus
          RV(apps[].deployed), never below 0).
        - Assigned by another tool or by hand, by a deployment forgotten without reclaiming, or by deployments whose
          records were lost when the store was restored from an older backup.
      type: int
      sample: 2
    application:
      description: Name of the application made from it with M(mdm.vpp.vpp_app); V(null) if none.
      type: str
      sample: Pages (hq)
    percent_used:
      description: Share of the licenses assigned, in percent (one decimal; 0 when there are none).
      type: float
      sample: 24.0
    low:
      description: Whether its available licenses are below O(low_license_threshold).
      type: bool
      sample: false
    holders:
      description:
        - Who holds its licenses according to the store's synchronised assignments, untracked ones first, then by
          kind and id; at most O(holders_limit).
      returned: with O(holders=true)
      type: list
      elements: dict
      contains:
        kind:
          description: V(device) (a serial number holds the license) or V(user) (a client user id).
          type: str
          sample: device
        id:
          description: The serial number or the client user id.
          type: str
          sample: C02XK0AAJG5H
        deployment:
          description: The install deployment of this collection whose licensed member holds it; V(null) if none.
          type: str
          sample: pages-sales-ipads
        tracked:
          description:
            - Whether a deployment of this collection gave it; V(false) (untracked) when another tool, a person in
              Apple's portal, or a deployment forgotten without reclaiming did.
          type: bool
          sample: false
      sample:
        - {kind: device, id: C02XK0AAJG5H, deployment: null, tracked: false}
        - {kind: device, id: DMPZ12ABCD34, deployment: pages-sales-ipads, tracked: true}
    holders_total:
      description: How many users and devices hold its licenses in the store, listed or not.
      returned: with O(holders=true)
      type: int
      sample: 2
    holders_truncated:
      description: Whether RV(apps[].holders) was cut at O(holders_limit) (RV(apps[].holders_total) is then larger).
      returned: with O(holders=true)
      type: bool
      sample: false
refresh:
  description: The synchronisation of each token, with O(refresh=true).
  returned: when O(refresh=true)
  type: list
  elements: dict
  contains:
    name:
      description: Name of the token.
      type: str
      sample: hq
    status:
      description: V(ok), or V(failed) (its apps are then listed as last synchronised).
      type: str
      sample: ok
    mode:
      description: V(full) or V(incremental).
      type: str
      sample: incremental
    mode_reason:
      description: Why that mode (see M(mdm.vpp.vpp_sync)).
      type: str
      sample: "auto: last full sync 2 days ago"
    changed:
      description: Whether the synchronisation changed the store (in check mode, would change it).
      type: bool
      sample: true
    license_count_changes:
      description: Per app whose license counts changed, the counts before and after and the difference.
      type: list
      elements: dict
      sample:
        - adam_id: "361309726"
          pricing_param: STDQ
          before: {total_count: 50, assigned_count: 12, available_count: 38, retired_count: 0}
          after: {total_count: 60, assigned_count: 12, available_count: 48, retired_count: 0}
          delta: {total_count: 10, assigned_count: 0, available_count: 10, retired_count: 0}
    msg:
      description: Why the token could not be synchronised; V(null) when it was.
      type: str
      sample: "GET /client/config: Apple refused the request (error 9625, HTTP 401): ..."
"""

from ansible_collections.mdm.vpp.plugins.module_utils.apps import list_apps
from ansible_collections.mdm.vpp.plugins.module_utils.module import VPPModule
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import PRODUCT_TYPES

ARGUMENT_SPEC = {
    "tokens": {"type": "list", "elements": "str", "no_log": False},  # token names, not secrets
    "platform": {"type": "str"},
    "product_type": {"type": "str", "choices": list(PRODUCT_TYPES)},
    "name": {"type": "str"},
    "adam_id": {"type": "str"},
    "low_license_threshold": {"type": "raw"},
    "query": {"type": "str"},
    "refresh": {"type": "bool", "default": False},
    "holders": {"type": "bool", "default": False},
    "holders_limit": {"type": "int", "default": 1000},
}


def main():
    VPPModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(list_apps)


if __name__ == "__main__":
    main()
