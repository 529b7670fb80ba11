#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vpp_app
short_description: Create and remove applications from the apps licensed through an Apple Apps and Books token
version_added: 0.1.0
description:
  - Creates (O(state=present)) or removes (O(state=absent)) an application, the unit that
    M(mdm.vpp.vpp_deployment) deploys, from an app or book a location token licenses.
  - An application is identified by its token, the app's adamId and its pricing param. The same app licensed
    through two tokens makes two applications, each deployed separately.
  - The app is named by O(adam_id), or by its name in Apple's catalogue (O(app_name)) when that name is unique in
    the token. An app the token does not license (not among its synchronised apps) is refused, and nothing is
    written.
  - Giving another O(name) for an existing application renames it; O(description) and O(categories) are updated
    when set. Nothing is written when nothing differs.
  - Removing an application that has deployments is refused unless O(force=true). Licenses are never touched; the
    module works on the store only and sends nothing to Apple.
author:
  - mdm.vpp contributors (@mdm-vpp)
options:
  token:
    description:
      - Name of the token that licenses the app, as registered with M(mdm.vpp.vpp_token).
      - With O(state=absent), a token that is not registered has nothing to remove (deleting a token deletes its
        applications); the task warns and changes nothing.
    type: str
    required: true
  adam_id:
    description:
      - Apple's product id of the app or book (the C(adamId)); quote it in YAML.
      - Exactly one of O(adam_id) and O(app_name) is required.
    type: str
  app_name:
    description:
      - The app's name in Apple's catalogue, instead of O(adam_id) (case-insensitive, exact).
      - It must name exactly one app of the token (with O(pricing_param), one asset); otherwise the task fails
        and lists the candidates.
    type: str
  pricing_param:
    description:
      - V(STDQ) (standard) or V(PLUS) (high quality) asset of the app.
      - When not set, the only pricing param the token licenses the app with, else V(STDQ).
    type: str
    choices: [STDQ, PLUS]
  name:
    description:
      - Name of the application, unique among applications; other modules refer to it by this name.
      - When creating without a name, V(<app name> (<token>\)) (the adamId when the app's name is not known).
      - For an existing application, a different name renames it; when not set, the name is kept.
    type: str
  description:
    description:
      - Free text describing the application. Left unchanged when not set.
    type: str
  categories:
    description:
      - Categories to group applications by. Left unchanged when not set.
    type: list
    elements: str
  state:
    description:
      - V(present) creates or updates the application, V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With O(state=absent), also remove an application that has deployments, forgetting their records.
      - No license is reclaimed at Apple; the licenses the deployments' members hold stay assigned.
    type: bool
    default: false
extends_documentation_fragment:
  - mdm.vpp.vpp
  - mdm.vpp.mdm
  - mdm.vpp.vpp.attributes
attributes:
  check_mode:
    support: full
    details:
      - Runs every check and returns the application as it would be, without writing to the store.
  diff_mode:
    support: full
    details:
      - Shows the application (name, token, adamId, pricing param, description, categories) before and after.
notes:
  - The store's data is used as the last M(mdm.vpp.vpp_sync) left it; run it first to use an app bought since.
seealso:
  - module: mdm.vpp.vpp_app_info
  - module: mdm.vpp.vpp_deployment
  - module: mdm.vpp.vpp_sync
"""

EXAMPLES = r"""
- name: An application from an app of the hq token (named "Pages (hq)")
  mdm.vpp.vpp_app:
    token: hq
    adam_id: "361309726"

- name: The same app through another token, named by its catalogue name, with a name of our own
  mdm.vpp.vpp_app:
    token: lyon-school
    app_name: Pages
    name: Pages for Lyon
    description: Word processor for the teachers
    categories: [office]

- name: Rename it
  mdm.vpp.vpp_app:
    token: lyon-school
    app_name: Pages
    name: Pages (Lyon teachers)

- name: Remove an application that has no deployments any more
  mdm.vpp.vpp_app:
    token: hq
    adam_id: "361309726"
    state: absent
"""

RETURN = r"""
application:
  description:
    - The application after the task (in check mode, as it would be); with O(state=absent), the application
      removed, or V(null) when there was none.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the application.
      type: str
      sample: Pages (hq)
    token:
      description: Name of the token that licenses the app.
      type: str
      sample: hq
    adam_id:
      description: Apple's product id of the app.
      type: str
      sample: "361309726"
    pricing_param:
      description: V(STDQ) or V(PLUS).
      type: str
      sample: STDQ
    description:
      description: Free-text description.
      type: str
      sample: Word processor for the teachers
    categories:
      description: Categories of the application.
      type: list
      elements: str
      sample: [office]
    created_at:
      description: When the application was created (ISO 8601, UTC); V(null) in check mode before it exists.
      type: str
      sample: "2026-11-25T08:00:00+00:00"
    updated_at:
      description: When the application last changed (ISO 8601, UTC).
      type: str
      sample: "2026-11-25T08:00:00+00:00"
app:
  description:
    - The app the application is made from, with its license counts, exactly as M(mdm.vpp.vpp_app_info) lists
      it (see there for every field); its C(low) is always V(false) here.
    - V(null) when removing an application whose app the token no longer licenses.
  returned: always
  type: dict
  sample:
    name: Pages
    adam_id: "361309726"
    pricing_param: STDQ
    bundle_id: com.apple.Pages
    version: "14.1"
    icon_url: https://is1-ssl.mzstatic.com/image/thumb/pages.png
    token: hq
    token_type: business
    product_type: App
    platforms: [iOS, macOS]
    device_assignable: true
    revocable: true
    unlimited: false
    total: 50
    assigned: 12
    available: 38
    retired: 0
    deployed: 10
    untracked: 2
    application: Pages (hq)
    percent_used: 24.0
    low: false
forgotten_deployments:
  description: With O(state=absent) and O(force=true), the deployments whose records were removed with the
    application (their members' licenses stay assigned at Apple).
  returned: when O(state=absent)
  type: list
  elements: str
  sample: [pages-ipads]
diff:
  description: The application before and after the task (empty when it does not exist).
  returned: in diff mode
  type: dict
  sample:
    before: {name: Pages (hq), token: hq, adam_id: "361309726", pricing_param: STDQ, description: null,
             categories: []}
    after: {name: Pages (hq), token: hq, adam_id: "361309726", pricing_param: STDQ, description: Word processor,
            categories: []}
"""

from ansible_collections.mdm.vpp.plugins.module_utils.apps import ensure_application
from ansible_collections.mdm.vpp.plugins.module_utils.module import VPPModule
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import PRICING_PARAMS

ARGUMENT_SPEC = {
    "token": {"type": "str", "required": True, "no_log": False},  # a token's name, not its secret
    "adam_id": {"type": "str"},
    "app_name": {"type": "str"},
    "pricing_param": {"type": "str", "choices": list(PRICING_PARAMS)},
    "name": {"type": "str"},
    "description": {"type": "str"},
    "categories": {"type": "list", "elements": "str"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "force": {"type": "bool", "default": False},
}
MUTUALLY_EXCLUSIVE = [("adam_id", "app_name")]
REQUIRED_ONE_OF = [("adam_id", "app_name")]


def main():
    module = VPPModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_one_of=REQUIRED_ONE_OF,
        supports_check_mode=True,
        names=("name",),
    )
    module.run(ensure_application)


if __name__ == "__main__":
    main()
