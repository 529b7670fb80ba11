# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who the members of a collection are: the ``members`` option and a members file, read under caps, validated.

A members file has one member per line, or CSV under a header (``serial,user`` or
``client_user_id,email,managed_apple_id``, or the column names MDM and Apple Business exports use: see
``HEADER_ALIASES``); it is read one line at a time, never held whole (docs/reliability.md). Serial numbers are
upper-cased (``vocabulary.normalize_serial``): two spellings of one serial are one device. Nothing is asked of
Apple for a bad member: every problem is reported at once, before any call. The file itself is opened and read
under its caps by ``members_file.py``.
"""

from __future__ import annotations

import csv
import io
import re
from array import array

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.member_list import MemberList
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import DEVICE, USER, normalize_serial

# Members of each collection type: the column that identifies a member first, then the optional ones.
MEMBER_COLUMNS = {
    DEVICE: ("serial", "user", "enrollment_id", "platform"),
    USER: ("client_user_id", "email", "managed_apple_id", "enrollment_id", "platform"),
}
# Where the MDM installs a member's app (both collection types): its enrollment (the device UDID, or a macOS user
# channel UDID:UserID as NanoMDM names it) and its platform (a Mac gets InstallAsManaged).
ENROLLMENT_ALIASES = ("enrollment_id", "enrollment id", "enrollment", "udid", "device udid", "device id")
PLATFORM_ALIASES = ("platform", "os", "operating system", "device platform")
# Header names a members file may use for each column, as MDM and Apple Business exports spell them (Jamf Pro,
# Intune, Apple Business Manager, Workspace ONE...), compared without case, blanks, "_" or "-" (``header_key``).
# Other columns of an export are ignored.
HEADER_ALIASES = {
    DEVICE: {
        "serial": (
            "serial",
            "serial number",
            "serialnumber",
            "serial no",
            "device serial",
            "device serial number",
            "hardware serial",
            "serial_number",
        ),
        "enrollment_id": ENROLLMENT_ALIASES,
        "platform": PLATFORM_ALIASES,
        "user": (
            "user",
            "username",
            "user name",
            "user id",
            "userid",
            "client_user_id",
            "client user id",
            "assigned user",
            "primary user",
        ),
    },
    USER: {
        "client_user_id": (
            "client_user_id",
            "client user id",
            "clientuserid",
            "user id",
            "userid",
            "user",
            "username",
            "user name",
            "id",
        ),
        "email": ("email", "e-mail", "email address", "e-mail address", "mail", "primary email"),
        "managed_apple_id": ("managed_apple_id", "managed apple id", "managed apple account", "apple id", "appleid"),
        "enrollment_id": ENROLLMENT_ALIASES,
        "platform": PLATFORM_ALIASES,
    },
}
# Serial numbers are not checked by Apple; refuse only what cannot be one (blanks, separators, absurd lengths).
SERIAL_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Apple's clientUserId is opaque; refuse blanks and control characters, which no MDM hands out.
CLIENT_USER_ID_PATTERN = re.compile(r"^[^\s\x00-\x1f\x7f]{1,256}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# An enrollment id goes into the MDM's URL path, comma-joined with others: no blank, comma, slash or control.
ENROLLMENT_ID_PATTERN = re.compile(r"^[^\s,/?#%\x00-\x1f\x7f]{1,256}$")
# Platforms as exports spell them (compared lower-case, without blanks) -> ours; only "macos" changes a command.
PLATFORMS = {
    "ios": "ios",
    "ipados": "ios",
    "iphone": "ios",
    "ipad": "ios",
    "macos": "macos",
    "mac": "macos",
    "macosx": "macos",
    "osx": "macos",
    "tvos": "tvos",
    "visionos": "visionos",
    "watchos": "watchos",
}
MAX_REPORTED_PROBLEMS = 10
# Bounds of a members file (docs/reliability.md): members, bytes, characters of one line.
MAX_FILE_MEMBERS = 2_000_000
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_LINE_BYTES = 4096


# --- parsing -----------------------------------------------------------------------------------------------------


def member_record(
    collection_type, member_id, device_user=None, email=None, managed_apple_id=None, enrollment_id=None, platform=None
):
    """A member in the collection's one spelling: ``member_id`` (serial or clientUserId) plus its details."""
    return {
        "member_id": member_id,
        "device_user": device_user if collection_type == DEVICE else None,
        "email": email if collection_type == USER else None,
        "managed_apple_id": managed_apple_id if collection_type == USER else None,
        "enrollment_id": enrollment_id,
        "platform": platform,
    }


def platform_name(value):
    """Our name of a platform as an export spells it (``iPadOS`` -> ``ios``, ``Mac OS X`` -> ``macos``); the value
    itself when unknown (then refused by the member check)."""
    if value is None:
        return None
    return PLATFORMS.get(re.sub(r"[\s_-]+", "", value).lower(), value)


def _clean(value):
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def member_from_item(collection_type, item):
    """One member from the ``members`` option: a string id, or a dict of the collection type's columns."""
    if not isinstance(item, dict):  # an id alone (a line of a plain members file): nothing else to read
        return member_record(collection_type, _clean(item))
    unknown = sorted(set(item) - set(MEMBER_COLUMNS[collection_type]))
    if unknown:
        raise ValueError(
            "unknown key(s) %s; a %s member has %s"
            % (", ".join(unknown), collection_type, ", ".join(MEMBER_COLUMNS[collection_type]))
        )
    values = {column: _clean(item.get(column)) for column in MEMBER_COLUMNS[collection_type]}
    where = {"enrollment_id": values.get("enrollment_id"), "platform": platform_name(values.get("platform"))}
    if collection_type == DEVICE:
        return member_record(DEVICE, values["serial"], device_user=values.get("user"), **where)
    return member_record(
        USER,
        values["client_user_id"],
        email=values.get("email"),
        managed_apple_id=values.get("managed_apple_id"),
        **where,
    )


def _data_lines(lines):
    """(line number, text) of the lines that carry data: ``#`` comments and blank lines are skipped.

    ``lines``: a text (split here) or any iterable of lines, such as an open file, read one line at a time."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, stripped


def header_key(name):
    """A column name compared as headers are: without case, blanks, ``_`` or ``-`` (``Serial Number`` = ``serial``
    ``number`` = ``SerialNumber``)."""
    return re.sub(r"[\s_-]+", "", str(name)).lower()


HEADER_COLUMNS = {
    collection_type: {header_key(alias): column for column, aliases in columns.items() for alias in aliases}
    for collection_type, columns in HEADER_ALIASES.items()
}


def _header(collection_type, fields):
    """The column each field names (None for a column this collection ignores) if ``fields`` is a header line of
    this collection type: it names the member id column (``serial`` or ``client_user_id``, by any alias) and no
    column twice. Else None: the line is data."""
    known = HEADER_COLUMNS[collection_type]
    names = [known.get(header_key(field)) for field in fields]
    named = [name for name in names if name is not None]
    if MEMBER_COLUMNS[collection_type][0] in named and len(set(named)) == len(named):
        return names
    return None


def too_many_members(source, number):
    """The refusal of a members file whose line ``number`` is past ``MAX_FILE_MEMBERS`` members."""
    return ConfigurationError(
        "members_file %s has more than %d members (line %d): that is the cap of a members file"
        % (source, MAX_FILE_MEMBERS, number),
        hint="split the collection into deployments of at most %d members each; nothing was changed" % MAX_FILE_MEMBERS,
    )


def parse_members_text(collection_type, text, source="members_file", members=None, lines=None):
    """Members from a file's text or lines: one id per line, or CSV under a header (``serial,user`` or
    ``client_user_id,email,managed_apple_id``, or their ``HEADER_ALIASES``). Returns ``(members, lines,
    problems)``: each member's line number in ``lines`` (an ``array``, compact whatever the number of members);
    problems name the line. ``members`` and ``lines``: lists to extend.

    ``text``: a string, or an iterable of lines consumed once (a file is never held whole); more than
    ``MAX_FILE_MEMBERS`` data lines fail at once."""
    members = [] if members is None else members
    lines = array("q") if lines is None else lines
    problems, columns, count = [], None, 0
    for index, (number, line) in enumerate(_data_lines(text)):
        fields = next(csv.reader(io.StringIO(line), skipinitialspace=True)) if "," in line or '"' in line else [line]
        if index == 0:
            columns = _header(collection_type, fields)
            if columns is not None:
                continue
        count += 1
        if count > MAX_FILE_MEMBERS:
            raise too_many_members(source, number)
        if columns is None:
            if len(fields) != 1:
                problems.append(
                    "%s line %d: %r has several fields but the file has no header line (%s)"
                    % (source, number, line, ",".join(MEMBER_COLUMNS[collection_type]))
                )
                continue
            item = fields[0]
        else:
            if len(fields) > len(columns):
                problems.append(
                    "%s line %d: %d fields, the header names %d" % (source, number, len(fields), len(columns))
                )
                continue
            item = {column: value for column, value in zip(columns, fields, strict=False) if column is not None}
        members.append(member_from_item(collection_type, item))
        lines.append(number)
    return members, lines, problems


def _member_problems(collection_type, where, member):
    """What is wrong with one member (``where()`` names it, called only for a problem)."""
    problems = []
    member_id = member["member_id"]
    if member["enrollment_id"] is not None and not ENROLLMENT_ID_PATTERN.match(member["enrollment_id"]):
        problems.append(
            "%s: %r is not an enrollment id (a UDID, or UDID:UserID for a macOS user channel)"
            % (where(), member["enrollment_id"])
        )
    if member["platform"] is not None and member["platform"] not in PLATFORMS.values():
        problems.append(
            "%s: platform %r is not one of %s"
            % (where(), member["platform"], ", ".join(sorted(set(PLATFORMS.values()))))
        )
    if collection_type == DEVICE:
        if not member_id or not SERIAL_PATTERN.match(member_id):
            problems.append("%s: %r is not a serial number" % (where(), member_id))
        if member["device_user"] is not None and not CLIENT_USER_ID_PATTERN.match(member["device_user"]):
            problems.append("%s: %r is not a client user id" % (where(), member["device_user"]))
    else:
        if not member_id or not CLIENT_USER_ID_PATTERN.match(member_id):
            problems.append("%s: %r is not a client user id" % (where(), member_id))
        for field in ("email", "managed_apple_id"):
            if member[field] is not None and not EMAIL_PATTERN.match(member[field]):
                problems.append("%s: %s %r is not an email address" % (where(), field, member[field]))
    return problems


def _same_or(value, normalized):
    """``normalized``, or ``value`` itself when they are equal: one string kept per member, not two."""
    return value if normalized == value else normalized


def _has_duplicates(collection_type, field, values):
    """Whether two values of a column are one (serials without case, emails without case): one set of keys."""
    keys = set()
    for value in values:
        if value is None:
            continue
        key = member_key(collection_type, value) if field == "member_id" else value.lower()
        if key in keys:
            return True
        keys.add(key)
    return False


def _duplicate_problems(collection_type, members, where):
    """Duplicate ids (and, for users, duplicate emails and managed Apple IDs): Apple refuses them (9704/9705/9715).

    ``where(index)`` names the member at ``index``; the first of each value is remembered by its index only."""
    fields = ("member_id",) if collection_type == DEVICE else ("member_id", "email", "managed_apple_id")
    labels = {
        "member_id": "serial number" if collection_type == DEVICE else "client user id",
        "email": "email",
        "managed_apple_id": "managed Apple ID",
    }
    problems = []
    for field in fields:
        values = members.ids if field == "member_id" else members.columns.get(field)
        if values is None:
            continue
        if not _has_duplicates(collection_type, field, values):
            continue  # the usual case: no dict of every value's first place
        seen = {}
        for index, value in enumerate(values):
            if value is None:
                continue
            key = _same_or(value, member_key(collection_type, value) if field == "member_id" else value.lower())
            first = seen.setdefault(key, index)
            if first != index:
                first_value = values[first]
                note = " as %r, spelled otherwise" % first_value if first_value != value else ""
                problems.append(
                    "%s: duplicate %s %r (first at %s%s)" % (where(index), labels[field], value, where(first), note)
                )
    return problems


def parse_members(collection_type, members=None, members_text=None, source="members_file"):
    """Every member of a collection, validated; raises one ``ConfigurationError`` listing the problems.

    ``members``: the module's list (strings or dicts); ``members_text``: a members file's content, as a string
    or an iterable of lines (read once, streaming). Each member is one id (serial numbers upper-cased in place);
    where it came from is one integer (``places``), named only in a problem. Returns a ``MemberList``.
    """
    parsed, places, problems = MemberList(), array("q"), []  # a place: -1 - index in ``members``, or a line of the file
    for index, item in enumerate(members or ()):
        try:
            parsed.append(member_from_item(collection_type, item))
            places.append(-1 - index)
        except ValueError as err:
            problems.append("members[%d]: %s" % (index, err))
    if members_text is not None:
        problems.extend(parse_members_text(collection_type, members_text, source, parsed, places)[2])

    def where(index):
        place = places[index]
        return "members[%d]" % (-1 - place) if place < 0 else "%s line %d" % (source, place)

    for index, member in enumerate(parsed):
        problems.extend(_member_problems(collection_type, lambda index=index: where(index), member))
    problems.extend(_duplicate_problems(collection_type, parsed, where))
    if problems:
        shown = problems[:MAX_REPORTED_PROBLEMS]
        more = len(problems) - len(shown)
        raise ConfigurationError(
            "the %s collection has %d invalid member(s): %s%s"
            % (collection_type, len(problems), "; ".join(shown), "; and %d more" % more if more else ""),
            hint="fix the members (or members_file) and run again; nothing was changed",
            details={"problems": problems},
        )
    if collection_type == DEVICE:
        ids = parsed.ids
        for index, member_id in enumerate(ids):
            ids[index] = _same_or(member_id, member_key(DEVICE, member_id))
    return parsed


def member_key(collection_type, member_id):
    """A member id as deployments compare and store it: a serial number upper-cased, a client user id as given."""
    return normalize_serial(member_id) if collection_type == DEVICE else member_id
