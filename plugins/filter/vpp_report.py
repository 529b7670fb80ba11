# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``mdm.vpp.vpp_report``: the license report from vpp_app_info's apps and vpp_token_info's tokens.

Documented in vpp_report.yml beside this file; the logic is in module_utils/report.py (and its report_* files).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mdm.vpp.plugins.module_utils.report import (
    build_report,
    render_csv,
    render_html,
    render_json,
    render_text,
)


def vpp_report(apps, tokens=None, title=None, low_threshold=None, expiry_days=None, changes=None):
    """The report of ``build_report`` plus ``rendered``: its texts keyed by file extension (html, csv, json, txt).

    ``changes`` (optional, the entries of mdm.vpp.vpp_audit_info) adds the "Last changes" section.
    """
    if not isinstance(apps, list) or not isinstance(tokens or [], list):
        raise AnsibleFilterError(
            "vpp_report expects the apps list of mdm.vpp.vpp_app_info as input and the tokens list of "
            "mdm.vpp.vpp_token_info as first argument, got %s and %s" % (type(apps).__name__, type(tokens).__name__)
        )
    if changes is not None and not isinstance(changes, list):
        raise AnsibleFilterError(
            "vpp_report expects changes= to be the entries list of mdm.vpp.vpp_audit_info, got %s"
            % type(changes).__name__
        )
    report = build_report(
        apps, tokens, title=title, low_threshold=low_threshold, expiry_days=expiry_days, changes=changes
    )
    rendered = {
        "html": render_html(report),
        "csv": render_csv(report),
        "json": render_json(report),
        "txt": render_text(report),
    }
    return dict(report, rendered=rendered)


class FilterModule:
    """The collection's report filter."""

    def filters(self):
        return {"vpp_report": vpp_report}
