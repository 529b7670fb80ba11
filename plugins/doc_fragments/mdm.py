# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The organisation's MDM server: the connection options every mdm.vpp module accepts (``mdm.vpp.mdm``)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  mdm_type:
    description:
      - Which MDM server installs and removes the apps whose licenses the collection assigns. C(nanomdm) is
        NanoMDM's C(/v1) API, C(nanohub) is NanoHUB (NanoMDM at C(/api/v1/nanomdm/), KMFDDM declarations at
        C(/api/v1/ddm/)), C(micromdm) is MicroMDM's C(/v1/commands).
      - Without it (and without E(VPP_MDM_TYPE)) there is no MDM, and deployments assign licenses only.
      - Every module accepts the MDM options, so one C(module_defaults) for C(group/mdm.vpp.vpp) configures a play;
        only M(mdm.vpp.vpp_deployment) talks to the MDM server.
      - If not set, the value of the E(VPP_MDM_TYPE) environment variable is used.
    type: str
    choices: [nanomdm, nanohub, micromdm]
  mdm_url:
    description:
      - Base URL of the MDM server's API, e.g. C(https://mdm.example.com) (without C(/v1)).
      - Must be an C(https://) URL; plain C(http://) is accepted only for a loopback host, since the API key
        travels in every request.
      - Required with O(mdm_type). If not set, the value of the E(VPP_MDM_URL) environment variable is used.
    type: str
  mdm_api_key:
    description:
      - The MDM server's API key (NanoMDM C(-api), NanoHUB C(-api-key), MicroMDM C(-api-key)), sent with HTTP Basic
        authentication as the password of the server's fixed user (C(nanomdm), C(nanohub), C(micromdm)).
      - Required with O(mdm_type). If not set, the value of the E(VPP_MDM_API_KEY) environment variable is used.
      - Never shown in a result, a diff, a warning or an error.
    type: str
  mdm_validate_certs:
    description:
      - Whether to verify the TLS certificate of O(mdm_url).
      - If not set, the value of the E(VPP_MDM_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  mdm_ca_path:
    description:
      - CA bundle used to verify the TLS certificate of O(mdm_url) instead of the system store.
      - If not set, the value of the E(VPP_MDM_CA_PATH) environment variable is used.
    type: path
notes:
  - The MDM server's timeouts and retries are those of Apple's requests (O(timeout), O(retries)).
"""
