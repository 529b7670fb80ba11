# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The members of a deployment, the per-member lists of its plan and its stored member rows, held compact whatever
their number (B5M: 1,000,000 members under 300 MB): ids in one list of strings, plan lists as indexes into the
members, stored rows as columns of codes. Each reads as the list (or mapping) of dicts it stands for (``for``,
``[i]``, slices, ``len``, ``==``), the dicts built when read."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Mapping
from itertools import islice

# The columns a member may give besides its id (``member_record``'s keys after ``member_id``).
OPTIONAL_FIELDS = ("device_user", "email", "managed_apple_id", "enrollment_id", "platform")
MEMBER_FIELDS = ("member_id", *OPTIONAL_FIELDS)


class ReadAsList:
    """Compares and prints as the list it stands for (``len``, iteration and slices come from the subclass)."""

    __slots__ = ()

    def __eq__(self, other):
        if isinstance(other, (list, tuple, ReadAsList)):
            return len(self) == len(other) and all(mine == theirs for mine, theirs in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self[:3] + (["..."] if len(self) > 3 else []))


class MemberList(ReadAsList):
    """The members of a collection, compact whatever their number (B5M: 1,000,000 in a members file): the ids in
    one list of strings, each optional column a list only once a member gives it. Read, a member is the dict of
    ``member_record`` (built when read, never kept): ``members[i]``, ``for member in members``, slices, ``len``;
    ``ids`` is the list of ids itself."""

    __slots__ = ("columns", "ids")

    def __init__(self, items=()):
        self.ids = []
        self.columns = {}  # column -> one value (or None) per member, present once a member gives it
        for item in items:
            self.append(item)

    def append(self, member):
        """Add a ``member_record`` dict."""
        index = len(self.ids)
        self.ids.append(member["member_id"])
        for field in OPTIONAL_FIELDS:
            value = member.get(field)
            values = self.columns.get(field)
            if values is not None:
                values.append(value)
            elif value is not None:
                self.columns[field] = [None] * index + [value]

    def __len__(self):
        return len(self.ids)

    def __iter__(self):
        template = dict.fromkeys(MEMBER_FIELDS)
        if not self.columns:
            for member_id in self.ids:
                member = template.copy()
                member["member_id"] = member_id
                yield member
            return
        columns = list(self.columns.items())
        for index, member_id in enumerate(self.ids):
            member = template.copy()
            member["member_id"] = member_id
            for field, values in columns:
                member[field] = values[index]
            yield member

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(len(self.ids)))]
        member = dict.fromkeys(MEMBER_FIELDS)
        member["member_id"] = self.ids[index]
        for field, values in self.columns.items():
            member[field] = values[index]
        return member


def member_entry(member, license_type, target):
    """A plan's entry of a member: its id, the license type, the target whose license serves it (its device user)."""
    entry = {"member_id": member["member_id"], "license_type": license_type, "target_id": target[1] if target else None}
    if member.get("device_user"):
        entry["device_user"] = member["device_user"]
    return entry


class EntryList(ReadAsList):
    """One per-member list of a plan (``already``, ``to_license``...), compact: the indexes of its members in the
    run's members (``array('I')``, 4 bytes each), each entry (``member_entry``) built when read, then the entries
    given whole (members that left the collection, which the members do not hold), in that order."""

    __slots__ = ("extra", "indexes", "license_type", "members", "own_target", "target")

    def __init__(self, members, license_type, target, own_target=False):
        self.members = members
        self.license_type = license_type
        self.target = target  # member -> (kind, id) of the target whose license serves it
        # whether each member's target is its own id (a serial, a user of a user collection), as ``parse_members``
        # spells it (serials upper-cased): then an entry is read from the ids without building the member
        self.own_target = own_target and isinstance(members, MemberList)
        self.indexes = array("I")
        self.extra = []

    def add(self, index):
        """Add the member at ``index`` of the members."""
        self.indexes.append(index)

    def append(self, entry):
        """Add an entry given whole."""
        self.extra.append(entry)

    def entry(self, index):
        member = self.members[index]
        return member_entry(member, self.license_type, self.target(member))

    def __len__(self):
        return len(self.indexes) + len(self.extra)

    def __iter__(self):
        if self.own_target:
            ids, users, license_type = self.members.ids, self.members.columns.get("device_user"), self.license_type
            for index in self.indexes:
                member_id = ids[index]
                entry = {"member_id": member_id, "license_type": license_type, "target_id": member_id}
                if users is not None and users[index]:
                    entry["device_user"] = users[index]
                yield entry
        else:
            for index in self.indexes:
                yield self.entry(index)
        yield from self.extra

    def __getitem__(self, index):
        if isinstance(index, slice):
            if index.step is None and (index.start or 0) >= 0 and (index.stop is None or index.stop >= 0):
                return list(islice(self, index.start, index.stop))
            return list(self)[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("plan entry index out of range")
        return self.entry(self.indexes[index]) if index < len(self.indexes) else self.extra[index - len(self.indexes)]


def _id_finder(members):
    """``text -> the members' own string equal to it, else text``, for a ``MemberList`` (found by bisection in the
    members' ids sorted, an index array: no map of the ids); the identity otherwise."""
    if not isinstance(members, MemberList) or not members.ids:
        return lambda text: text
    ids = members.ids
    order = array("I", sorted(range(len(ids)), key=ids.__getitem__))

    def same_id(text):
        place = bisect_left(order, text, key=ids.__getitem__)
        return ids[order[place]] if place < len(order) and ids[order[place]] == text else text

    return same_id


class StoredMembers(Mapping):
    """A deployment's member rows as the store gives them, ``{member_id: row}``, compact whatever their number (a
    rerun of a 1,000,000-member deployment): the ids sorted in one list (a row is found by bisection), each other
    column an ``array('I')`` of codes into one list of the distinct values of every column (states, event ids, the
    times of a chunk, error texts: few). Given the run's ``members``, an id that is a member's is the member's own
    string (one string an id, not one a copy: 1,000,000 ids are about 60 MB a copy). A row is the dict the store
    gave, built when read, never kept: change a copy, never the row (it is not written back)."""

    __slots__ = ("columns", "distinct", "ids")

    def __init__(self, rows=(), members=None):
        self.ids, self.distinct, self.columns = [], [], {}
        codes = {}  # value -> its index in ``distinct``: only while reading (str, int and None never compare equal)
        same_id = _id_finder(members)
        for row in rows:
            if not self.columns:
                self.columns = {column: array("I") for column in row if column != "member_id"}
            self.ids.append(same_id(row["member_id"]))
            for column, column_codes in self.columns.items():
                value = row[column]
                code = codes.get(value)
                if code is None:
                    code = codes[value] = len(self.distinct)
                    self.distinct.append(value)
                column_codes.append(code)
        if any(earlier >= later for earlier, later in zip(self.ids, islice(self.ids, 1, None), strict=False)):
            self._sort()  # the store's collation may not be Python's order (PostgreSQL's locale)

    def _sort(self):
        order = sorted(range(len(self.ids)), key=self.ids.__getitem__)
        self.ids = [self.ids[index] for index in order]
        for column, column_codes in self.columns.items():
            self.columns[column] = array("I", (column_codes[index] for index in order))

    def row(self, index):
        """The row at ``index`` of the sorted ids."""
        found = {"member_id": self.ids[index]}
        distinct = self.distinct
        for column, column_codes in self.columns.items():
            found[column] = distinct[column_codes[index]]
        return found

    def index(self, member_id):
        """The place of ``member_id`` in the sorted ids, or -1."""
        index = bisect_left(self.ids, member_id)
        return index if index < len(self.ids) and self.ids[index] == member_id else -1

    def __getitem__(self, member_id):
        index = self.index(member_id)
        if index < 0:
            raise KeyError(member_id)
        return self.row(index)

    def ids_not_in(self, member_ids):
        """The stored ids that are not among ``member_ids``, in id order (a mark a row, no set of the ids)."""
        marks = bytearray(len(self.ids))
        for member_id in member_ids:
            index = self.index(member_id)
            if index >= 0:
                marks[index] = 1
        return [member_id for member_id, mark in zip(self.ids, marks, strict=True) if not mark]

    def __iter__(self):
        return iter(self.ids)

    def __len__(self):
        return len(self.ids)

    def items(self):
        """``(member_id, row)`` in id order, each row built as it is read."""
        return ((member_id, self.row(index)) for index, member_id in enumerate(self.ids))

    def values(self):
        """The rows in id order, each built as it is read."""
        return (self.row(index) for index in range(len(self.ids)))

    def __repr__(self):
        return "StoredMembers(%d rows)" % len(self.ids)


class TargetSet:
    """A set of ``(kind, id)`` targets (the holders of an app's licenses), compact (a rerun at 1,000,000 holders):
    an id that is one of ``within``'s (a ``StoredMembers``: the stored members, in a rerun most holders) is a byte
    over its ids, any other id in a set of its kind; no tuple a target. ``in``, ``add``, ``discard``, ``len`` and
    iteration as a set of tuples."""

    __slots__ = ("marks", "others", "within")

    def __init__(self, targets=(), within=None):
        self.within = within
        self.marks = {}  # kind -> bytearray, a byte for each of ``within``'s ids
        self.others = {}  # kind -> set of the ids that are not ``within``'s
        for target in targets:
            self.add(target)

    def _place(self, target_id):
        return -1 if self.within is None else self.within.index(target_id)

    def add(self, target):
        kind, target_id = target
        place = self._place(target_id)
        if place < 0:
            self.others.setdefault(kind, set()).add(target_id)
            return
        if kind not in self.marks:
            self.marks[kind] = bytearray(len(self.within))
        self.marks[kind][place] = 1

    def discard(self, target):
        kind, target_id = target
        place = self._place(target_id)
        if place < 0:
            self.others.get(kind, set()).discard(target_id)
        elif kind in self.marks:
            self.marks[kind][place] = 0

    def __contains__(self, target):
        kind, target_id = target
        place = self._place(target_id)
        if place < 0:
            return target_id in self.others.get(kind, ())
        return kind in self.marks and self.marks[kind][place] == 1

    def __len__(self):
        return sum(marks.count(1) for marks in self.marks.values()) + sum(map(len, self.others.values()))

    def __iter__(self):
        for kind, marks in self.marks.items():
            yield from ((kind, self.within.ids[place]) for place, mark in enumerate(marks) if mark)
        for kind, ids in self.others.items():
            yield from ((kind, target_id) for target_id in ids)
