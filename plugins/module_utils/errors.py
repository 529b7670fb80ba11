# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One error tree for the whole collection.

Every failure a module can report is a ``VPPError``: it carries Apple's ``errorNumber`` (when Apple gave one),
the HTTP status, and a hint telling the administrator what to do. Messages never contain secrets: callers
pass fingerprints and names, never token contents.
"""

from __future__ import annotations

# How an error answer of Apple's is worded ("Apple refused the request (error 9621, HTTP 401): ...").
APPLE_REFUSED = "Apple refused the request"


class VPPError(Exception):
    """Base of every mdm.vpp error: ``msg`` says what failed and why, ``hint`` what to do."""

    default_hint = None

    def __init__(self, msg, error_number=None, http_status=None, hint=None, details=None):
        super().__init__(msg)
        self.msg = msg
        self.error_number = error_number
        self.http_status = http_status
        self.hint = hint if hint is not None else self.default_hint
        self.details = details or {}

    def __str__(self):
        if self.hint:
            return "%s: %s" % (self.msg.rstrip("."), self.hint)  # Apple's messages end with a full stop
        return self.msg

    def to_result(self):
        """Keyword arguments for ``fail_json``: the message plus Apple's numbers when known."""
        result = {"msg": str(self)}
        if self.error_number is not None:
            result["error_number"] = self.error_number
        if self.http_status is not None:
            result["http_status"] = self.http_status
        result.update(self.details)
        return result


# --- input given to the collection ---------------------------------------------------------------------------


class ConfigurationError(VPPError):
    """An option or combination of options that cannot work (bad module input)."""


class ContentTokenError(ConfigurationError):
    """A content token (sToken) that cannot be parsed or used: not base64, not JSON, missing fields, bad date."""

    default_hint = (
        "download the content token again from Apple Business or Apple School Manager (Settings > Apps and Books)"
    )


# --- Apple's answers -----------------------------------------------------------------------------------------


class AppleError(VPPError):
    """Apple answered with an error; ``error_number`` is Apple's ``errorNumber``."""

    default_hint = (
        "look the error number up in Apple's Apps and Books documentation; run again later, and report it to the "
        "mdm.vpp maintainers if it persists"
    )


class AuthenticationError(AppleError):
    """The content token was refused (9601, 9622 invalid; 9722 malformed header)."""

    default_hint = "check that the content token is the whole file downloaded from Apple, then run vpp_token again"


class TokenExpiredError(AuthenticationError):
    """9621: the content token has expired."""

    default_hint = "download a new content token from Apple Business or Apple School Manager and run vpp_token again"


class TokenRevokedError(AuthenticationError):
    """9625: the content token was revoked (re-downloaded or revoked by Apple)."""

    default_hint = (
        "download the current content token from Apple Business or Apple School Manager and run vpp_token again"
    )


class PermissionDeniedError(AppleError):
    """9637/9647 and other 403s: this token may not do that."""

    default_hint = "use a content token of a content manager who can manage licenses"


class TakeoverError(AppleError):
    """Another device-management service wrote its identity (``mdmInfo``) for this location."""

    default_hint = (
        "the location is managed by another MDM; run vpp_token with force_takeover: true "
        "only if this collection should take it over"
    )


class RateLimitedError(AppleError):
    """429 / 9646 after every retry was spent."""

    default_hint = "Apple is throttling this location; run again later or lower 'parallel'"


class ServiceUnavailableError(AppleError):
    """5xx, 9603, 9729, 9644, a dropped connection or a timeout, after every retry was spent."""

    default_hint = (
        "Apple's service did not answer correctly; run again later (raise 'retries' or 'timeout' if it persists)"
    )


class MalformedAnswerError(ServiceUnavailableError):
    """An HTTP 200 answer that is not what the reference describes (a page without its list, a negative count):
    retried like a 5xx; never taken for data."""

    default_hint = (
        "Apple's answer was malformed; nothing was stored from it: run again later (raise 'retries' if it persists)"
    )


class InvalidVersionError(AppleError):
    """9721: Apple does not know the ``sinceVersionId`` (for example after a store restore)."""

    default_hint = "run vpp_sync with mode: full"


class NotEnoughLicensesError(AppleError):
    """9709: fewer licenses available than needed."""

    default_hint = "buy more licenses, reclaim unused ones, or set allow_partial: true"


class NotDeviceAssignableError(AppleError):
    """9707: the asset cannot be assigned to a serial number."""

    default_hint = "deploy it to a user collection instead"


class NotRevocableError(AppleError):
    """9706: the asset's licenses cannot be taken back (books)."""

    default_hint = "Apple never takes back book licenses: leave them assigned"


class UnknownUserError(AppleError):
    """9609: the clientUserId is not a registered user of the location."""

    default_hint = "register the user first (vpp_deployment does so for user collections)"


class EventNotFoundError(AppleError):
    """9708: Apple does not know that eventId."""

    default_hint = "the event belongs to another location or Apple no longer knows it; sync the token and run again"


class AppleValidationError(AppleError):
    """9602 and the 97xx/98xx validation errors: the request was refused and nothing was queued."""

    default_hint = (
        "Apple queued nothing: check the values the task sends (ids, serial numbers, emails, URLs); if they are "
        "right, run again later and report it to the mdm.vpp maintainers with the error number if it persists"
    )


class EventTimeoutError(AppleError):
    """An asynchronous event was still PENDING when the wait ran out; its id is kept to resume later."""

    default_hint = "run the same task again later: it resumes by polling the stored event instead of resubmitting"


# --- our own state -------------------------------------------------------------------------------------------


class StoreError(VPPError):
    """The state store cannot be opened, read or written."""


class StoreKeyError(StoreError):
    """The store key is missing or does not decrypt the stored token secrets."""

    default_hint = "pass the store_key (or VPP_STORE_KEY) that was used when the tokens were registered"


class LockTimeoutError(StoreError):
    """Another job holds the per-token lock for longer than the timeout."""

    default_hint = "another job is working on this token; run again when it has finished"


# Apple's synchronous error numbers mapped to the class that explains them (§12 of the API reference).
ERROR_CLASSES = {
    9601: AuthenticationError,
    9622: AuthenticationError,
    9722: AuthenticationError,
    9621: TokenExpiredError,
    9625: TokenRevokedError,
    9637: PermissionDeniedError,
    9647: PermissionDeniedError,
    9646: RateLimitedError,
    9603: ServiceUnavailableError,
    9644: ServiceUnavailableError,
    9729: ServiceUnavailableError,
    9634: ServiceUnavailableError,
    9721: InvalidVersionError,
    9709: NotEnoughLicensesError,
    9707: NotDeviceAssignableError,
    9706: NotRevocableError,
    9609: UnknownUserError,
    9708: EventNotFoundError,
}


# (endpoint label, errorNumber) whose meaning at that endpoint differs from ERROR_CLASSES -> (class, hint).
# 9622 from an associate is "User has reached the maximum number of devices for this license" (Fleet's api.go):
# a failure of the users named, never an invalid token.
ENDPOINT_ERRORS = {
    ("POST /assets/associate", 9622): (
        AppleError,
        "a user named has reached Apple's maximum number of devices for this license: remove the app from one of "
        "that user's devices, or assign it to the devices instead",
    ),
}


def error_for(error_number, message, http_status=None, details=None, endpoint=None):
    """Build the right ``AppleError`` for an Apple ``errorNumber`` (unknown numbers stay generic).

    ``endpoint`` ("POST /assets/associate") selects a meaning particular to that endpoint (``ENDPOINT_ERRORS``).
    """
    hint = None
    if (endpoint, error_number) in ENDPOINT_ERRORS:
        cls, hint = ENDPOINT_ERRORS[(endpoint, error_number)]
    elif error_number in ERROR_CLASSES:
        cls = ERROR_CLASSES[error_number]
    elif error_number is not None and (error_number == 9602 or 9700 <= error_number < 9900):
        cls = AppleValidationError
    else:
        cls = AppleError
    text = APPLE_REFUSED + " (error %s%s): %s" % (
        error_number,
        ", HTTP %s" % http_status if http_status else "",
        message or "no message",
    )
    return cls(text, error_number=error_number, http_status=http_status, hint=hint, details=details)


# --- the organisation's MDM server ----------------------------------------------------------------------------


class MDMError(VPPError):
    """The MDM server (NanoMDM, NanoHUB, MicroMDM) failed, refused, or gave an answer that is not what its
    reference describes; ``http_status`` is its HTTP status when it answered. Never carries the API key."""

    default_hint = (
        "check that mdm_url names the MDM server's API and that the server is running; run again later if it "
        "persists (raise 'retries' or 'timeout')"
    )


class MDMRefusedError(MDMError):
    """The MDM server refused the API key (HTTP 401/403)."""

    default_hint = (
        "check mdm_api_key (VPP_MDM_API_KEY): it must be the server's API key (NanoMDM -api, NanoHUB -api-key, "
        "MicroMDM -api-key)"
    )
