# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse and validate an Apple content token (sToken).

The file an administrator downloads from Apple Business / Apple School Manager holds one Base64 string; decoded,
it is a JSON object ``{"token": ..., "expDate": ..., "orgName": ...}``. The *whole* Base64 string is the secret
sent to Apple (``Authorization: Bearer <sToken>``), so this module keeps it out of every repr and message and
names a token by a short fingerprint instead.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ContentTokenError
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import UTC, utc_now

REQUIRED_FIELDS = ("token", "expDate", "orgName")
FINGERPRINT_LENGTH = 12
_JSON_TYPE_NAMES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}

# ISO 8601 as Apple writes it (2031-02-14T09:15:00+0000), plus the variants seen elsewhere: -0700, +07:00, Z,
# optional fractional seconds.
_EXPIRY_PATTERN = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})T(?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d{1,6})\d*)?"
    r"(?:(?P<zulu>Z)|(?P<sign>[+-])(?P<hours>\d{2}):?(?P<minutes>\d{2}))$"
)


@dataclass(frozen=True)
class ContentToken:
    """A parsed content token. ``secret`` is the whole token text; it is excluded from repr and comparison."""

    org_name: str
    expires_at: datetime
    fingerprint: str
    secret: str = field(repr=False, compare=False)

    def __repr__(self):
        return "ContentToken(org_name=%r, expires_at=%r, fingerprint=%r)" % (
            self.org_name,
            self.expires_at.isoformat(),
            self.fingerprint,
        )

    __str__ = __repr__

    def days_left(self, now=None):
        """Whole days until expiry (0 on the last day, negative once expired)."""
        return (self.expires_at - _given_or_now(now)) // timedelta(days=1)

    def is_expired(self, now=None):
        """True once the expiry instant has passed."""
        return self.expires_at <= _given_or_now(now)

    def expires_within(self, days, now=None):
        """True when the token expires within ``days`` days from now (or is already expired)."""
        return self.expires_at <= _given_or_now(now) + timedelta(days=days)


def parse_content_token(text):
    """Parse the content of a token file into a ``ContentToken``; raise ``ContentTokenError`` when unusable.

    Surrounding whitespace is ignored (files end with a newline), and so are line breaks inside the Base64 text
    (some tools wrap it); the secret kept is the compact text Apple expects in the header.
    """
    compact = _compact(text)
    payload = _decode_json_object(compact)
    missing = [name for name in REQUIRED_FIELDS if not _is_filled_string(payload.get(name))]
    if missing:
        raise ContentTokenError(
            "the content token is missing or has an empty or non-text field: %s" % ", ".join(missing)
        )
    return ContentToken(
        org_name=payload["orgName"],
        expires_at=parse_expiry(payload["expDate"]),
        fingerprint=fingerprint(compact),
        secret=compact,
    )


def fingerprint(secret):
    """Short stable name for a token: the first hex digits of the SHA-256 of its text (reveals nothing of it)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def parse_expiry(value):
    """Parse a token expiry date into an aware UTC datetime; ``ContentTokenError`` names the bad value."""
    match = _EXPIRY_PATTERN.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ContentTokenError(
            "the content token expiry date %r is not an ISO 8601 date and time such as 2031-02-14T09:15:00+0000"
            % (value,)
        )
    fraction = (match.group("fraction") or "0").ljust(6, "0")
    try:
        local = datetime.strptime(
            "%s %s %s" % (match.group("date"), match.group("time"), fraction), "%Y-%m-%d %H:%M:%S %f"
        )
        offset = _offset(match)
    except ValueError as exc:
        raise ContentTokenError("the content token expiry date %r is not a valid date: %s" % (value, exc)) from None
    return local.replace(tzinfo=offset).astimezone(UTC)


def _offset(match):
    if match.group("zulu"):
        return UTC
    minutes = int(match.group("hours")) * 60 + int(match.group("minutes"))
    if match.group("sign") == "-":
        minutes = -minutes
    return timezone(timedelta(minutes=minutes))


def _compact(text):
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise ContentTokenError("the content token is not Base64 text (it contains non-ASCII bytes)") from None
    if not isinstance(text, str):
        raise ContentTokenError("the content token must be text, not %s" % type(text).__name__)
    compact = "".join(text.split())
    if not compact:
        raise ContentTokenError("the content token is empty")
    return compact


def _decode_json_object(compact):
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise ContentTokenError(
            "the content token is not valid Base64 (is this the file downloaded from Apple, unchanged?)"
        ) from None
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ContentTokenError("the content token decodes from Base64 but does not contain JSON") from None
    if not isinstance(payload, dict):
        raise ContentTokenError(
            "the content token decodes to a JSON %s, expected an object with token, expDate and orgName"
            % _JSON_TYPE_NAMES.get(type(payload), type(payload).__name__)
        )
    return payload


def _is_filled_string(value):
    return isinstance(value, str) and bool(value.strip())


def _given_or_now(now):
    return now if now is not None else utc_now()
