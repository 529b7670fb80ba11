# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsing and validating content tokens (sToken files)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ContentTokenError
from ansible_collections.mdm.vpp.plugins.module_utils.stoken import ContentToken, fingerprint, parse_content_token

INNER = "c2VjcmV0LWlubmVyLXRva2Vu"  # the opaque part Apple puts in "token"


def encode(payload):
    """Base64 text of a JSON document (or of raw text), as the token file holds it."""
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    return base64.b64encode(raw.encode("utf-8")).decode("ascii")


def token_file(exp_date="2031-02-14T09:15:00+0000", org_name="Example School", **extra):
    return encode(dict({"token": INNER, "expDate": exp_date, "orgName": org_name}, **extra)) + "\n"


def rejection(text):
    with pytest.raises(ContentTokenError) as caught:
        parse_content_token(text)
    return str(caught.value)


def test_apple_token_file_is_parsed():
    text = token_file()
    token = parse_content_token(text)
    assert token.org_name == "Example School"
    assert token.expires_at == datetime(2031, 2, 14, 9, 15, tzinfo=UTC)
    assert token.secret == text.strip()
    assert token.fingerprint == fingerprint(text.strip())
    assert len(token.fingerprint) == 12 and int(token.fingerprint, 16) >= 0


def test_surrounding_whitespace_and_wrapped_lines_are_ignored():
    compact = token_file().strip()
    wrapped = "\r\n  " + "\n".join(compact[i : i + 60] for i in range(0, len(compact), 60)) + "\r\n\n"
    assert parse_content_token(wrapped) == parse_content_token(compact)
    assert parse_content_token(wrapped).secret == compact
    assert parse_content_token(compact.encode("ascii")).secret == compact


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2031-02-14T09:15:00+0000", datetime(2031, 2, 14, 9, 15, tzinfo=UTC)),
        ("2031-02-14T09:15:00-0700", datetime(2031, 2, 14, 16, 15, tzinfo=UTC)),
        ("2031-02-14T09:15:00+05:30", datetime(2031, 2, 14, 3, 45, tzinfo=UTC)),
        ("2031-02-14T09:15:00Z", datetime(2031, 2, 14, 9, 15, tzinfo=UTC)),
        ("2031-02-14T09:15:00.250Z", datetime(2031, 2, 14, 9, 15, 0, 250000, tzinfo=UTC)),
    ],
)
def test_expiry_formats_are_read_as_utc(written, expected):
    expires_at = parse_content_token(token_file(exp_date=written)).expires_at
    assert expires_at == expected
    assert expires_at.utcoffset() == timedelta(0)


def test_fingerprint_is_stable_and_distinguishes_tokens():
    assert parse_content_token(token_file()).fingerprint == parse_content_token(token_file()).fingerprint
    assert parse_content_token(token_file()).fingerprint != parse_content_token(token_file(org_name="B")).fingerprint


def test_repr_and_str_never_show_the_secret():
    token = parse_content_token(token_file())
    for text in (repr(token), str(token), repr([token]), "%s" % (token,)):
        assert token.secret not in text and INNER not in text
        assert token.fingerprint in text and "Example School" in text


def test_tokens_compare_without_looking_at_the_secret_field():
    token = parse_content_token(token_file())
    twin = ContentToken(token.org_name, token.expires_at, token.fingerprint, secret="other text")
    assert token == twin and hash(token) == hash(twin)


def test_days_left_expired_and_expires_within():
    token = parse_content_token(token_file(exp_date="2031-02-14T09:15:00Z"))
    a_day_before = datetime(2031, 2, 13, 9, 15, tzinfo=UTC)
    assert token.days_left(now=a_day_before) == 1
    assert token.days_left(now=a_day_before + timedelta(hours=1)) == 0
    assert token.days_left(now=a_day_before + timedelta(days=3)) == -2
    assert not token.is_expired(now=a_day_before)
    assert token.is_expired(now=datetime(2031, 2, 14, 9, 15, tzinfo=UTC))
    assert token.expires_within(15, now=datetime(2031, 2, 1, tzinfo=UTC))
    assert not token.expires_within(15, now=datetime(2031, 1, 1, tzinfo=UTC))
    assert not parse_content_token(token_file()).is_expired()  # against the real clock: expires in 2031


@pytest.mark.parametrize("empty", ["", "   ", "\n\n", b""])
def test_empty_token(empty):
    assert "the content token is empty" in rejection(empty)


def test_not_base64():
    message = rejection("this is not base64!")
    assert "not valid Base64" in message
    assert "download the content token again" in message  # what to do


def test_non_ascii_bytes():
    assert "non-ASCII" in rejection("tökén".encode())


def test_not_json():
    assert "does not contain JSON" in rejection(encode("token=abc;expDate=2031"))


@pytest.mark.parametrize(("document", "kind"), [("[1, 2]", "array"), ('"text"', "string"), ("42", "number")])
def test_json_that_is_not_an_object(document, kind):
    assert "decodes to a JSON %s, expected an object" % kind in rejection(encode(document))


def test_missing_fields_are_named():
    message = rejection(encode({"token": INNER}))
    assert "expDate, orgName" in message
    assert INNER not in message


@pytest.mark.parametrize("bad", [None, "", "  ", 12])
def test_empty_or_non_text_field_is_named(bad):
    assert rejection(encode({"token": INNER, "expDate": "2031-02-14T09:15:00Z", "orgName": bad})).count("orgName")


@pytest.mark.parametrize(
    "bad_date",
    ["tomorrow", "2031-02-14", "2031-02-14T09:15:00", "2031-02-30T09:15:00+0000", "2031-02-14T25:15:00+0000"],
)
def test_bad_expiry_date_is_refused_without_echoing_the_secret(bad_date):
    message = rejection(token_file(exp_date=bad_date))
    assert "expiry date %r" % bad_date in message
    assert INNER not in message and token_file(exp_date=bad_date).strip() not in message


def test_error_text_never_contains_the_token():
    text = encode({"token": INNER, "expDate": "soon", "orgName": "X"})
    with pytest.raises(ContentTokenError) as caught:
        parse_content_token(text)
    assert INNER not in str(caught.value) and text not in str(caught.value)
    assert INNER not in repr(caught.value) and text not in repr(caught.value)
