#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vpp_token_info
short_description: List registered Apple Apps and Books location tokens and check them at Apple
version_added: 0.1.0
description:
  - Lists the location tokens registered with M(mdm.vpp.vpp_token) and their facts (never the tokens
    themselves), such as location, expiry, status, whether this manager holds the location, last synchronisations.
  - With O(check=true), asks Apple for each token now, to notice a revocation, an expiry or a takeover by another
    device-management service that happened since the last synchronisation. Nothing is written, neither in the
    store nor at Apple.
  - Warns about every token that expires within O(expiry_warning_days).
  - Shows each token's notification settings (where Apple posts its notifications, the types, and the shared
    secret's fingerprint, never the secret); with O(check=true), also the ones Apple has now.
author:
  - mdm.vpp contributors (@mdm-vpp)
options:
  names:
    description:
      - Only these tokens. Names that are not registered are left out of the result.
      - All tokens when not set.
    type: list
    elements: str
  check:
    description:
      - Ask Apple now (one C(GET /client/config) per token) whether each token still works and still belongs to
        this manager, and report the outcome in RV(tokens[].status) and RV(tokens[].check_error).
    type: bool
    default: false
  expiry_warning_days:
    description:
      - Warn, and report status V(expiring), when a token expires within this many days.
    type: int
    default: 30
  parallel:
    description:
      - With O(check=true), how many tokens are checked at Apple at once (3,000 tokens one after the other
        would take 3,000 round trips).
      - Unset (the default), one token per thread up to 64 at once.
    type: int
extends_documentation_fragment:
  - mdm.vpp.vpp
  - mdm.vpp.mdm
  - mdm.vpp.vpp.check_mode_read_only
  - mdm.vpp.vpp.attributes
"""

EXAMPLES = r"""
- name: List every registered token
  mdm.vpp.vpp_token_info:
  register: vpp_tokens

- name: Fail when a token is no longer usable
  mdm.vpp.vpp_token_info:
    check: true
  register: checked
  failed_when: checked.tokens | rejectattr('status', 'in', ['valid', 'expiring']) | list | length > 0

- name: Tokens that expire within 60 days
  mdm.vpp.vpp_token_info:
    names: [hq, lyon-school]
    expiry_warning_days: 60
  register: soon
"""

RETURN = r"""
tokens:
  description: The facts of each token, sorted by name.
  returned: always
  type: list
  elements: dict
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
      sample: [europe]
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
      description: V(business) or V(education).
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
        - V(valid), V(expiring) (within O(expiry_warning_days)), V(expired), V(revoked), V(invalid) (Apple does
          not know the token) or V(claimed_elsewhere) (another device-management service holds the location).
        - Without O(check), as last reported by Apple and by the expiry date; with O(check), as Apple answers now.
      type: str
      sample: valid
    claimed:
      description: Whether the location carries this manager's identity at Apple.
      type: bool
      sample: true
    last_sync_at:
      description: When the token was last synchronised.
      type: str
      sample: "2026-11-25T08:00:00+00:00"
    last_full_sync_at:
      description: When the token was last fully synchronised.
      type: str
      sample: "2026-11-25T08:00:00+00:00"
    fingerprint:
      description: Short non-reversible name of the token.
      type: str
      sample: 3f9a1c0d5b7e
    notifications:
      description:
        - Where Apple posts the location's notifications, as set by M(mdm.vpp.vpp_token) and stored; V(null) when
          never set.
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
          description: Short non-reversible name of the shared secret, never the secret.
          type: str
          sample: 5be0c1f2a9d4
    notifications_at_apple:
      description:
        - The notification settings Apple has now, with the keys of RV(tokens[].notifications) (V(url) V(null)
          when none); they differ from RV(tokens[].notifications) when another tool changed them (run
          M(mdm.vpp.vpp_token) again to put yours back).
      returned: when O(check=true) and Apple answered
      type: dict
      sample:
        url: https://events.example.org/apple/hq
        types: [ASSET_COUNT]
        auth_token_fingerprint: 5be0c1f2a9d4
    check_error:
      description: Why Apple's answer made the token unusable, or why Apple could not be asked; V(null) if fine.
      returned: when O(check=true)
      type: str
      sample: "token 'hq': GET /client/config: Apple refused the request (error 9625, HTTP 401): ..."
"""

from ansible_collections.mdm.vpp.plugins.module_utils.module import VPPModule
from ansible_collections.mdm.vpp.plugins.module_utils.parallel import DEFAULT_PARALLEL
from ansible_collections.mdm.vpp.plugins.module_utils.token_facts import DEFAULT_EXPIRY_WARNING_DAYS
from ansible_collections.mdm.vpp.plugins.module_utils.tokens import list_tokens

ARGUMENT_SPEC = {
    "names": {"type": "list", "elements": "str"},
    "check": {"type": "bool", "default": False},
    "expiry_warning_days": {"type": "int", "default": DEFAULT_EXPIRY_WARNING_DAYS},
    "parallel": {"type": "int", "default": DEFAULT_PARALLEL},
}


def main():
    VPPModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(list_tokens)


if __name__ == "__main__":
    main()
