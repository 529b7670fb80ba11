# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Apple's answers mean to the transport: the payload, Apple's error, and which failures are retried.

Retried: throttling (HTTP 429, 9646), server faults (5xx, 9603, 9644, 9729), a 2xx answer that is not JSON,
a malformed answer (``answers``' checks), dropped connections and timeouts. Never an authentication error.
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.errors import (
    MalformedAnswerError,
    RateLimitedError,
    ServiceUnavailableError,
    error_for,
)
from ansible_collections.mdm.vpp.plugins.module_utils.transport import Classifier, Retryable

RETRYABLE_ERROR_NUMBERS = frozenset((9603, 9644, 9646, 9729))


class AppleClassifier(Classifier):
    """The ``transport.Classifier`` of Apple's license service and its metadata lookup."""

    service_name = "Apple"

    def failure(self, label, reason):
        return ServiceUnavailableError("%s: %s" % (label, reason))

    def decode(self, response, label):
        """The JSON body of a successful answer; Apple's error (with ``error_info``: who Apple refused) otherwise."""
        try:
            payload = response.json()
        except ValueError:
            payload = None
        error_number = payload.get("errorNumber") if isinstance(payload, dict) else None
        status = response.status_code
        if 200 <= status < 300 and not error_number:
            if not isinstance(payload, dict):
                raise ServiceUnavailableError("%s: Apple's answer was not JSON (HTTP %s)" % (label, status))
            return payload
        message = payload.get("errorMessage") if isinstance(payload, dict) else None
        error = apple_error(label, error_number, message or response.reason, status)
        error.error_info = payload.get("errorInfo") if isinstance(payload, dict) else None
        raise error

    def is_retryable(self, error, status):
        if 200 <= status < 300 and not error.error_number:
            return True  # a 2xx answer that is not JSON
        return status == 429 or status >= 500 or error.error_number in RETRYABLE_ERROR_NUMBERS


def apple_error(label, error_number, message, status):
    """The ``AppleError`` of an error answer, its text prefixed by the request's label."""
    error = error_for(error_number, message, http_status=status, endpoint=label)
    if status == 429 and not isinstance(error, RateLimitedError):
        error = RateLimitedError(error.msg, error_number=error_number, http_status=status)
    elif status >= 500 and not isinstance(error, ServiceUnavailableError):
        error = ServiceUnavailableError(error.msg, error_number=error_number, http_status=status)
    error.msg = "%s: %s" % (label, error.msg)
    error.args = (error.msg,)
    return error


def retrying_malformed(check):
    """``check`` (an ``answers`` check) for ``Transport.send``: a malformed answer is retried like a 5xx."""
    if check is None:
        return None

    def run(payload, label):
        try:
            check(payload, label)
        except MalformedAnswerError as malformed:
            raise Retryable(malformed) from None

    return run
