# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apple's fixed vocabulary: error numbers with their HTTP status, default limits, enums."""

from __future__ import annotations

# errorNumber -> (HTTP status when returned synchronously, short message). Messages are the simulator's own
# wording: clients must key on the number only (reference §14).
ERRORS = {
    9601: (401, "Login required."),
    9602: (400, "Invalid argument."),
    9603: (500, "Internal error."),
    9609: (400, "Registered user not found."),
    9621: (401, "The content token has expired. Download a new one from Apple Business or Apple School Manager."),
    9622: (401, "Invalid authentication token."),
    9625: (401, "The content token has been revoked."),
    9635: (400, "The Apple Account cannot be associated with this user."),
    9637: (403, "This operation is not allowed for facilitator accounts."),
    9641: (400, "The Apple Account is already associated with another user."),
    9644: (503, "The service is in maintenance mode. Try again later."),
    9646: (429, "Too many requests for this organization."),
    9647: (403, "This operation is not supported for legacy tokens."),
    9650: (400, "pageIndex is out of range."),
    9700: (400, "Too many assets."),
    9701: (400, "Too many clientUserIds."),
    9702: (400, "Too many serialNumbers."),
    9703: (400, "Duplicate assets."),
    9704: (400, "Duplicate clientUserIds."),
    9705: (400, "Duplicate serialNumbers."),
    9706: (400, "Asset is not revocable."),
    9707: (400, "Asset is not device assignable."),
    9708: (400, "Event not found."),
    9709: (400, "Not enough licenses available."),
    9710: (400, "notificationUrl and notificationAuthToken must be given together."),
    9711: (400, "Notification URL or auth token is too long."),
    9712: (400, "Notification URL is invalid; an https URL is required."),
    9713: (400, "mdmInfo.metadata is too long."),
    9714: (400, "Too many users."),
    9715: (400, "Duplicate users."),
    9716: (400, "An active user with this clientUserId already exists."),
    9717: (400, "Invalid email address."),
    9718: (400, "assets is required."),
    9719: (400, "clientUserIds or serialNumbers is required."),
    9720: (400, "users is required."),
    9721: (400, "Invalid versionId."),
    9722: (401, "The Authorization header must be 'Bearer {sToken}'."),
    9723: (400, "mdmInfo requires id, name and metadata."),
    9724: (400, "mdmInfo.id is too long."),
    9725: (400, "mdmInfo.name is too long."),
    9726: (405, "HTTP method not supported on this path."),
    9727: (415, "Unsupported Content-Type."),
    9728: (400, "The notification URL did not accept the test notification."),
    9729: (503, "Service temporarily unavailable."),
}

# Apple's documented example values (reference §14); tests override them with Simulator.set_limits().
DEFAULT_LIMITS = {
    "maxAssets": 25,
    "maxClientUserIds": 1000,
    "maxSerialNumbers": 1000,
    "maxRevokeClientUserIds": 100,
    "maxRevokeSerialNumbers": 100,
    "maxUsers": 100,
    "maxSubscriptions": 25,
    "maxSubscriptionClientUserIds": 1000,
    "maxNotificationLength": 512,
    "maxMdmNameLength": 100,
    "maxMdmMetadataLength": 255,
    "maxMdmIdLength": 100,
    "maxRequestPerSecond": 15,
}

# Subscriptions are out of scope, so only the four asset/user types are advertised and emitted.
SUPPORTED_NOTIFICATION_TYPES = ["ASSET_MANAGEMENT", "USER_MANAGEMENT", "USER_ASSOCIATED", "ASSET_COUNT"]
ACCEPTED_NOTIFICATION_TYPES = frozenset(
    SUPPORTED_NOTIFICATION_TYPES
    + ["TEST_NOTIFICATION", "SUBSCRIPTION_MANAGEMENT", "SUBSCRIPTION_COUNT", "UNLIMITED_ASSET"]
)

UNLIMITED_SENTINEL = 2147483647  # int32 max: totalCount of an unlimited asset (reference §4.2)
PRICING_PARAMS = ("STDQ", "PLUS")
PRODUCT_TYPES = ("App", "Book")
PLATFORMS = ("iOS", "macOS", "tvOS", "watchOS", "visionOS")
EXPIRY_WARNING_DAYS = 15
MAX_NOTIFICATION_ELEMENTS = 100
NOTIFICATION_ATTEMPTS = 3

DEFAULT_SETTINGS = {
    "page_size": 500,
    "event_delay": 0.05,
    "hold_events": False,
    "enforce_rate_limit": True,
    "token_expiration": "config",
    "invalid_token_error": 9622,
    "token_error_status": 200,
    "unknown_user_error": "sync",
    "unknown_user_info": True,
    "mixed_targets": "refuse",
    "metadata_requires_token": True,
    "latency_ms": 0,
    "allow_http_notifications": False,
    "notification_retry_interval": 0.05,
    "notification_timeout": 2.0,
    "notification_ca_file": None,
    "duplicate_notifications": False,
    "drop_notifications": False,
    "fault_hang_seconds": 3.0,
    "fault_trickle_ms": 500,
    "read_only_error": 9637,
    "seed": 1,
}


def error_body(error_number, info=None, message=None):
    """An ``ErrorResponse`` body for ``error_number`` (with ``errorInfo`` when given)."""
    body = {"errorNumber": error_number, "errorMessage": message or ERRORS.get(error_number, (0, "Error."))[1]}
    if info:
        body["errorInfo"] = info
    return body


class ApiError(Exception):
    """A synchronous Apple error: the handler answers with ``status`` and an ``ErrorResponse`` body."""

    def __init__(self, error_number, status=None, info=None, headers=None, message=None):
        super().__init__(error_number)
        self.error_number = error_number
        self.status = status or ERRORS.get(error_number, (400, ""))[0]
        self.info = info
        self.headers = headers or {}
        self.message = message

    def body(self):
        return error_body(self.error_number, self.info, self.message)
