#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vpp_token
short_description: Register, renew, claim and delete Apple Apps and Books location tokens
version_added: 0.1.0
description:
  - Registers the content token (sToken) of one Apple Business or Apple School Manager location under a name,
    stores it encrypted in the collection's store, and claims the location for this manager by writing its
    identity (C(mdmInfo)) at Apple.
  - Validates the token before anything is written. It must parse, not be expired, be accepted by Apple, belong
    to a location that no other device-management service manages (unless O(force_takeover=true)), that is not
    registered under another name, and fit within Apple's limit of 3,000 tokens.
  - Giving a different token for a registered name renews it; the new token must be of the same location, and
    everything synchronised or deployed through the name is kept.
  - Removing a token deletes everything synchronised through it from the store; with O(revoke_on_delete=true)
    it first takes back every revocable license of the location at Apple.
  - Removing a token that applications (and their deployments) depend on is refused unless O(force=true); the
    message names them and what to do. Without O(revoke_on_delete=true) the licenses their members hold stay
    assigned at Apple.
  - Sets where Apple posts the location's notifications (O(notification_url), O(notification_auth_token),
    O(notification_types)), for the event source C(mdm.vpp.vpp_events). Apple saves them only when its
    C(TEST_NOTIFICATION) to that URL gets a 2xx answer; the store holds the new settings before they are sent, so
    that the receiver can check Apple's C(Authorization) header, and gets the previous ones back when Apple
    refuses.
  - Returns the token's facts, never its secret; a token is named by its fingerprint.
author:
  - mdm.vpp contributors (@mdm-vpp)
options:
  name:
    description:
      - Name under which the token is registered; other modules refer to the token by this name.
    type: str
    required: true
  token:
    description:
      - Content of the token file downloaded from Apple (the Base64 text).
      - Required to register a new name. For a registered name, a different token renews it and an omitted one
        updates the metadata only.
      - Mutually exclusive with O(token_file).
    type: str
  token_file:
    description:
      - Path of the token file (C(.vpptoken)) on the controller; the same as O(token) but read from a file.
      - Mutually exclusive with O(token).
    type: path
  description:
    description:
      - Free text describing the location. Left unchanged when not set.
    type: str
  categories:
    description:
      - Categories to group tokens by, for example a region or a department. Left unchanged when not set.
    type: list
    elements: str
  apple_id:
    description:
      - Apple Account of the content manager who downloaded the token, to know whom to ask for its renewal.
      - Left unchanged when not set.
    type: str
  token_type:
    description:
      - The kind of location the token must belong to, checked against what Apple reports
        (C(business.apple.com) is V(business), C(school.apple.com) is V(education)).
      - Not checked when not set.
    type: str
    choices: [business, education]
  state:
    description:
      - V(present) registers, renews or updates the token; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  claim:
    description:
      - Write this manager's identity (C(mdmInfo)) into the location at Apple, so that another
        device-management service using the same location can notice it.
      - With V(false) the location is read but not claimed.
    type: bool
    default: true
  force_takeover:
    description:
      - Register (and claim) a location that another device-management service has claimed.
      - Apple allows one manager per location; two managers assigning licenses of the same location get
        unpredictable results. Use it only when this collection replaces the other service.
      - With O(state=absent) and O(revoke_on_delete=true), allows revoking licenses of such a location.
    type: bool
    default: false
  revoke_on_delete:
    description:
      - With O(state=absent), first revoke every revocable license of the location at Apple (every user and
        device holding one), wait for Apple to finish, and only then delete the token.
      - If Apple refuses any revocation, the token is kept and the task fails.
      - Books cannot be revoked and stay assigned.
    type: bool
    default: false
  force:
    description:
      - With O(state=absent), also delete a token that applications and deployments depend on, deleting their
        records with it (the task warns, naming them).
      - No license is reclaimed unless O(revoke_on_delete=true); without it, the licenses the deployments'
        members hold stay assigned at Apple. To give them back one by one instead, reclaim them with an
        uninstall deployment (M(mdm.vpp.vpp_deployment)) before deleting the token.
    type: bool
    default: false
  expiry_warning_days:
    description:
      - Warn, and report status V(expiring), when the token expires within this many days.
    type: int
    default: 30
  notification_url:
    description:
      - The HTTPS URL (host and path, no query) where Apple posts the location's notifications, that of a
        C(mdm.vpp.vpp_events) receiver with a certificate Apple trusts, reachable from Apple's servers.
      - Checked before any request; at most C(maxNotificationLength) characters (512).
      - When set, Apple at once posts a C(TEST_NOTIFICATION) there; unless the receiver answers with a 2xx, Apple
        refuses the settings, the task fails and the previous settings are kept, in the store and at Apple.
      - Left as stored when not set. A task that sets none of the C(notification_*) options leaves the
        notification settings alone.
    type: str
  notification_auth_token:
    description:
      - The shared secret Apple sends in the C(Authorization) header (C(Bearer) scheme) with each notification,
        so that the receiver knows the call comes from Apple.
      - When not set, the stored one is kept; when none is stored, a random one is generated. It is stored
        encrypted with the store key and reused by later runs, which then change nothing.
      - Never shown; results and diffs name it by its fingerprint.
    type: str
  notification_types:
    description:
      - The complete set of notification types the location subscribes to (Apple replaces the set).
      - Only types Apple lists in its service configuration are accepted; another is refused before any write.
      - When not set, every type about licenses and users that Apple offers (V(ASSET_MANAGEMENT),
        V(ASSET_COUNT), V(USER_MANAGEMENT), V(USER_ASSOCIATED)).
      - An empty list V([]) switches the notifications off (Apple stops sending, and keeps the URL and secret);
        it needs no URL and Apple sends no C(TEST_NOTIFICATION).
      - Giving only the types keeps the stored URL and secret.
    type: list
    elements: str
extends_documentation_fragment:
  - mdm.vpp.vpp
  - mdm.vpp.mdm
  - mdm.vpp.vpp.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - When Apple's notification settings differ from the ones the store recorded (another tool changed them), the
    task's settings replace them, with a warning; in diff mode V(before) shows Apple's as C(notifications_at_apple).
  - A location can be registered under one name only. To replace a token, run the module with the same name and
    the new token (a renewal); Apple revokes the previous token of the location when a new one is downloaded.
  - The store keeps the token encrypted with O(store_key).
seealso:
  - module: mdm.vpp.vpp_token_info
  - module: mdm.vpp.vpp_sync
"""

EXAMPLES = r"""
- name: Register the headquarters location and claim it
  mdm.vpp.vpp_token:
    name: hq
    token_file: /secure/tokens/hq.vpptoken
    description: Headquarters, Paris
    categories: [europe, business]
    apple_id: apps-admin@example.org
    token_type: business

- name: Renew it with the token downloaded this year (same name, same location)
  mdm.vpp.vpp_token:
    name: hq
    token: "{{ lookup('ansible.builtin.file', '/secure/tokens/hq-2027.vpptoken') }}"

- name: Change only its description
  mdm.vpp.vpp_token:
    name: hq
    description: Headquarters, Paris and Lyon

- name: Take over a location another MDM used before
  mdm.vpp.vpp_token:
    name: lyon-school
    token_file: /secure/tokens/lyon.vpptoken
    token_type: education
    force_takeover: true

- name: Have Apple post this location's notifications to the mdm.vpp.vpp_events receiver (secret generated)
  mdm.vpp.vpp_token:
    name: hq
    notification_url: https://events.example.org/apple/hq

- name: Only license counts and invitations, with a secret of your own
  mdm.vpp.vpp_token:
    name: hq
    notification_url: https://events.example.org/apple/hq
    notification_auth_token: "{{ vault_hq_notification_secret }}"
    notification_types: [ASSET_COUNT, USER_ASSOCIATED]

- name: Switch Apple's notifications off for this location
  mdm.vpp.vpp_token:
    name: hq
    notification_types: []

- name: Delete a location, taking back its licenses first
  mdm.vpp.vpp_token:
    name: old-branch
    state: absent
    revoke_on_delete: true

- name: Delete a location and the applications and deployments made from it (their licenses stay assigned)
  mdm.vpp.vpp_token:
    name: closed-branch
    state: absent
    force: true
"""

RETURN = r"""
token:
  description:
    - The token's facts after the task (before it, for O(state=absent)); V(null) when there is no such token.
    - Never contains the token itself.
  returned: always
  type: dict
  contains:
    name:
      description: Name the token is registered under.
      type: str
      sample: hq
    description:
      description: Free-text description.
      type: str
      sample: Headquarters, Paris
    categories:
      description: Categories of the token.
      type: list
      elements: str
      sample: [europe, business]
    apple_id:
      description: Apple Account of the content manager responsible for the token.
      type: str
      sample: apps-admin@example.org
    org_name:
      description: Organisation name written in the token.
      type: str
      sample: Example Corp
    location_name:
      description: Name of the location at Apple.
      type: str
      sample: Example HQ
    uid:
      description: Apple's identifier of the location (C(uId)).
      type: str
      sample: "9000000000000001"
    country:
      description: Country of the location (ISO 3166 alpha-2).
      type: str
      sample: US
    token_type:
      description: V(business) or V(education), from the location's Apple website.
      type: str
      sample: business
    website_url:
      description: Apple website of the location.
      type: str
      sample: https://business.apple.com
    expires_at:
      description: When the token expires (ISO 8601, UTC).
      type: str
      sample: "2027-05-01T09:15:00+00:00"
    days_left:
      description: Whole days until expiry (negative once expired).
      type: int
      sample: 364
    status:
      description:
        - V(valid); V(expiring) within O(expiry_warning_days); V(expired); V(revoked), V(invalid) or
          V(claimed_elsewhere) when Apple last reported so.
      type: str
      sample: valid
    claimed:
      description: Whether the location carries this manager's identity at Apple.
      type: bool
      sample: true
    last_sync_at:
      description: When the token was last synchronised (V(null) before the first sync).
      type: str
      sample: "2026-11-25T08:00:00+00:00"
    last_full_sync_at:
      description: When the token was last fully synchronised.
      type: str
      sample: "2026-11-25T08:00:00+00:00"
    fingerprint:
      description: Short non-reversible name of the token (the start of its SHA-256).
      type: str
      sample: 3f9a1c0d5b7e
    notifications:
      description:
        - Where Apple posts the location's notifications, as stored (after the task); V(null) when never set.
      type: dict
      contains:
        url:
          description: The receiver's URL.
          type: str
          sample: https://events.example.org/apple/hq
        types:
          description: The notification types subscribed (V([]) when switched off).
          type: list
          elements: str
          sample: [ASSET_MANAGEMENT, ASSET_COUNT, USER_MANAGEMENT, USER_ASSOCIATED]
        auth_token_fingerprint:
          description: Short non-reversible name of the shared secret (the start of its SHA-256), never the secret.
          type: str
          sample: 5be0c1f2a9d4
actions:
  description:
    - What the task did (or would do in check mode), in order.
    - V(register), V(renew), V(update) (metadata or location facts), V(claim), V(take_over),
      V(notifications) (notification settings stored and, when Apple's differ, posted), V(revoke), V(delete).
  returned: always
  type: list
  elements: str
  sample: [register, claim]
removed:
  description:
    - With O(state=absent), what was deleted with the token (in check mode, what would be); never a secret.
  returned: when O(state=absent) and the token existed
  type: dict
  contains:
    applications:
      description: Names of the applications made from the token's apps.
      type: list
      elements: str
      sample: [Pages (hq)]
    deployments:
      description: The deployments of those applications, each with its member counts.
      type: list
      elements: dict
      sample:
        - {name: pages-ipads, application: Pages (hq), action: install, members: 30, licensed: 28}
    synced_assets:
      description: How many synchronised apps and books of the token were deleted.
      type: int
      sample: 25
revoked:
  description: What O(revoke_on_delete=true) took back (in check mode, what it would take back).
  returned: when O(state=absent), the token existed and O(revoke_on_delete=true)
  type: dict
  contains:
    users:
      description: Users that held a revocable license.
      type: int
      sample: 12
    devices:
      description: Devices (serial numbers) that held a revocable license.
      type: int
      sample: 30
    licenses:
      description: Licenses revoked (in check mode, that would be revoked).
      type: int
      sample: 57
    events:
      description: Apple event ids of the revocations.
      type: list
      elements: str
      sample: ["b6e0c2a4-7a51-4c2e-9d0b-0c2f1c9a1b11"]
diff:
  description:
    - The token's facts before and after the task.
    - With O(state=absent), V(before) also names what goes with the token (RV(removed)) and V(after) is empty.
    - V(before.notifications_at_apple) shows Apple's notification settings when they were not the ones stored.
  returned: in diff mode
  type: dict
  sample: {"before": {"description": "old"}, "after": {"description": "new"}}
"""

from ansible_collections.mdm.vpp.plugins.module_utils.module import VPPModule
from ansible_collections.mdm.vpp.plugins.module_utils.token_facts import DEFAULT_EXPIRY_WARNING_DAYS
from ansible_collections.mdm.vpp.plugins.module_utils.tokens import ensure_token

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "token": {"type": "str", "no_log": True},
    "token_file": {"type": "path"},
    "description": {"type": "str"},
    "categories": {"type": "list", "elements": "str"},
    "apple_id": {"type": "str"},
    "token_type": {"type": "str", "choices": ["business", "education"]},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "claim": {"type": "bool", "default": True},
    "force_takeover": {"type": "bool", "default": False},
    "revoke_on_delete": {"type": "bool", "default": False},
    "force": {"type": "bool", "default": False},
    "expiry_warning_days": {"type": "int", "default": DEFAULT_EXPIRY_WARNING_DAYS},
    "notification_url": {"type": "str"},
    "notification_auth_token": {"type": "str", "no_log": True},
    "notification_types": {"type": "list", "elements": "str"},
}
MUTUALLY_EXCLUSIVE = [("token", "token_file")]


def main():
    module = VPPModule(
        argument_spec=ARGUMENT_SPEC, mutually_exclusive=MUTUALLY_EXCLUSIVE, supports_check_mode=True, names=("name",)
    )
    module.run(ensure_token)


if __name__ == "__main__":
    main()
