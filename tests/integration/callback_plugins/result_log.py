# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: append every task result as one JSON line to the file named by VPP_TEST_RESULTS."""

from __future__ import annotations

DOCUMENTATION = """
name: result_log
type: aggregate
short_description: write task results as JSON lines for the integration tests
description:
  - Appends one JSON object per task result (task name, host, status, module result) to the file named by the
    E(VPP_TEST_RESULTS) environment variable.
requirements:
  - enable in callbacks_enabled
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "result_log"
    CALLBACK_NEEDS_ENABLED = True

    def _log(self, status, result):
        path = os.environ.get("VPP_TEST_RESULTS")
        if not path:
            return
        record = {
            "task": result.task_name,
            "host": result._host.get_name(),
            "status": status,
            "result": result._result,
        }
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._log("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._log("failed", result)

    def v2_runner_on_skipped(self, result):
        self._log("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._log("unreachable", result)
