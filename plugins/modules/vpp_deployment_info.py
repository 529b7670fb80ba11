#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vpp_deployment_info
short_description: List Apple Apps and Books deployments and the state of their members
version_added: 0.1.0
description:
  - Lists the deployments made with M(mdm.vpp.vpp_deployment) with their application, token, license type,
    action, purpose, collection and how many members are in each state.
  - With O(members=true), or when one deployment is asked for by O(name), adds each member's detail; O(member_state)
    keeps the members of one state, O(members_limit) and O(members_offset) list them page by page (a deployment of
    100,000 members need not come back in one result).
  - Reads the store only; nothing is asked of Apple and nothing is written.
author:
  - mdm.vpp contributors (@mdm-vpp)
options:
  name:
    description:
      - Only the deployment with this name (its members in detail).
    type: str
  application:
    description:
      - Only the deployments of this application.
    type: str
  token:
    description:
      - Only the deployments of applications licensed by this token.
    type: str
  members:
    description:
      - Add each member's detail to every deployment listed.
    type: bool
    default: false
  member_state:
    description:
      - Only the members in this state (for example V(failed), the members that need attention).
    type: str
    choices: [pending, licensed, failed, untargeted, reclaimed]
  members_limit:
    description:
      - List at most this many members of each deployment (a page, sorted by member id), and return
        RV(deployments[].members_next_offset). Unset, every member is listed.
      - Implies O(members=true).
    type: int
  members_offset:
    description:
      - With O(members_limit), skip this many members first (the RV(deployments[].members_next_offset) of the
        previous page).
    type: int
    default: 0
extends_documentation_fragment:
  - mdm.vpp.vpp
  - mdm.vpp.mdm
  - mdm.vpp.vpp.check_mode_read_only
  - mdm.vpp.vpp.attributes
seealso:
  - module: mdm.vpp.vpp_deployment
"""

EXAMPLES = r"""
- name: Every deployment with its member counts
  mdm.vpp.vpp_deployment_info:
  register: deployments

- name: The members of one deployment
  mdm.vpp.vpp_deployment_info:
    name: pages-sales-ipads
  register: pages_ipads

- name: Members that failed, with Apple's reason
  ansible.builtin.debug:
    msg: "{{ item.id }}: {{ item.error_number }} {{ item.error_message }}"
  loop: "{{ pages_ipads.deployments[0].member_details | selectattr('state', 'equalto', 'failed') }}"

- name: The failed members of a large deployment, 1,000 at a time
  mdm.vpp.vpp_deployment_info:
    name: pages-all-ipads
    member_state: failed
    members_limit: 1000
    members_offset: "{{ next_offset | default(0) }}"
  register: page

- name: Deployments of one token
  mdm.vpp.vpp_deployment_info:
    token: hq
    members: true
"""

RETURN = r"""
deployments:
  description: The deployments, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the deployment.
      type: str
      sample: pages-sales-ipads
    application:
      description: Name of the application deployed.
      type: str
      sample: Pages (hq)
    token:
      description: Token that licenses the application.
      type: str
      sample: hq
    adam_id:
      description: Apple's product id.
      type: str
      sample: "1000000001"
    pricing_param:
      description: Apple's pricing parameter.
      type: str
      sample: STDQ
    license_type:
      description: V(device) or V(user).
      type: str
      sample: device
    action:
      description: V(install) or V(uninstall).
      type: str
      sample: install
    purpose:
      description: Always V(required).
      type: str
      sample: required
    collection:
      description: Name and type of the collection.
      type: dict
      sample: {"name": "Sales iPads", "type": "device"}
    members:
      description:
        - Number of members of the collection. Rows kept of former members (V(untargeted), and V(reclaimed) in an
          install deployment) are counted in C(states) only.
      type: int
      sample: 2
    states:
      description: Members by state.
      type: dict
      sample: {"pending": 0, "licensed": 2, "failed": 0, "untargeted": 0, "reclaimed": 0}
    pending_events:
      description: Apple events of the deployment still pending (the next vpp_deployment run polls them).
      type: int
      sample: 0
    install_states:
      description:
        - Members by install state, with an MDM server (C(none) for members nothing was sent to).
        - V(sending) and V(removal_sending) (a run stopped before the MDM answered; the next run sends the same
          command again), V(sent) and V(removal_sent) (queued by the MDM), V(not_now) (the device will answer
          later), V(installed), V(failed) (the device's error, or the MDM server's refusal, in C(install_error)),
          V(removed), V(removal_failed).
      type: dict
      sample: {"installed": 2, "none": 0}
    created_at:
      description: When the deployment was created (ISO 8601, UTC).
      type: str
      sample: "2026-11-25T08:00:00+00:00"
    updated_at:
      description: When the deployment itself was last changed.
      type: str
      sample: "2026-11-25T08:00:00+00:00"
    members_next_offset:
      description: The O(members_offset) of the next page of members; V(null) after the last page.
      returned: with O(members_limit)
      type: int
      sample: 1000
    member_details:
      description: Each member (of O(member_state), within the page of O(members_limit) and O(members_offset)).
      returned: with O(members=true), O(name) or O(members_limit)
      type: list
      elements: dict
      contains:
        id:
          description: Serial number (device collection) or client user id (user collection).
          type: str
          sample: C02XK0AAJG5H
        device_user:
          description: Client user id of the device's user, when given.
          type: str
          sample: u-1001
        license_type:
          description: License type the member claims.
          type: str
          sample: device
        state:
          description: V(pending), V(licensed), V(failed), V(untargeted) or V(reclaimed).
          type: str
          sample: licensed
        error_number:
          description: Apple's error number when the member failed.
          type: int
          sample: 9709
        error_message:
          description: Why the member failed.
          type: str
          sample: not enough licenses available
        event_id:
          description: The last Apple event of the member.
          type: str
          sample: 6f1d2c3b-0d4e-4f5a-8b9c-0a1b2c3d4e5f
        enrollment_id:
          description: The enrollment the MDM sends the member's commands to (UDID, or UDID:UserID); V(null) if unknown.
          type: str
          sample: 00008030-001A2B3C4D5E802E
        install_state:
          description: The member's install state (see RV(deployments[].install_states)); V(null) when nothing was sent.
          type: str
          sample: installed
        command_uuid:
          description: The MDM command last sent to the member (or, for declarations, the app's bundle id).
          type: str
          sample: 8f2c3a52-0d7e-4b8e-9a51-2f0b6d1c9e11
        install_error:
          description: What the device or the MDM answered when the install or removal failed.
          type: str
          sample: "Error 9610: License not found"
        updated:
          description: When the member's state last changed.
          type: str
          sample: "2026-11-25T08:00:00+00:00"
"""

from ansible_collections.mdm.vpp.plugins.module_utils.deployments import list_deployments
from ansible_collections.mdm.vpp.plugins.module_utils.module import VPPModule
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import MEMBER_STATES

ARGUMENT_SPEC = {
    "name": {"type": "str"},
    "application": {"type": "str"},
    "token": {"type": "str", "no_log": False},  # a token's name, not its secret
    "members": {"type": "bool", "default": False},
    "member_state": {"type": "str", "choices": list(MEMBER_STATES)},
    "members_limit": {"type": "int"},
    "members_offset": {"type": "int", "default": 0},
}


def main():
    VPPModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(list_deployments)


if __name__ == "__main__":
    main()
