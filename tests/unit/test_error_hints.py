# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every error Apple can answer ends in a message that says what to do, not only what went wrong."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ERROR_CLASSES, AppleValidationError, error_for

# 9602 (invalid argument), 97xx validation numbers, numbers Apple may add later, and every mapped number
ERROR_NUMBERS = sorted({9602, 9700, 9717, 9999, 1234, *ERROR_CLASSES})


@pytest.mark.parametrize("error_number", ERROR_NUMBERS)
def test_every_apple_error_carries_a_hint(error_number):
    error = error_for(error_number, "Invalid argument.", http_status=400)
    assert error.hint, "error %s has no hint" % error_number
    assert str(error).endswith(": " + error.hint)
    assert error.to_result()["msg"] == str(error)


def test_a_refused_request_says_nothing_was_queued_and_what_to_check():
    error = error_for(9602, "Invalid argument.", http_status=200)
    assert isinstance(error, AppleValidationError)
    assert "Apple queued nothing" in str(error) and "check the values the task sends" in str(error)


@pytest.mark.parametrize("error_number", ERROR_NUMBERS)
def test_apples_full_stop_gives_way_to_the_hint(error_number):
    text = str(error_for(error_number, "Invalid argument.", http_status=400))
    assert ".:" not in text and "Invalid argument: " in text
