# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sending write batches to Apple: an intent before each request, member refusals split out of their batch.

Apple answers an associate naming an unknown or retired ``clientUserId`` synchronously (HTTP 400, 9609, Fleet's
production traffic) and a user license whose user reached its device limit with 9622: the whole request is refused
and nothing is queued. Such a batch is sent again without the users Apple refused: the ones its ``errorInfo`` names,
or, when it names none, found by halving the batch (k refused users among n cost about k * log2(n) requests). The
other batches go out as usual, and every member ends with its true outcome.

``Hooks`` lets the caller record what a batch is about to ask *before* it is sent (``before``), what Apple accepted
(``accepted``) and the members Apple refused (``refused``); ``abandoned`` is told when a request failed in a way that
proves nothing was queued, so the recorded intent can go.
"""

from __future__ import annotations

import collections
from concurrent.futures import Future, ThreadPoolExecutor

from ansible_collections.mdm.vpp.plugins.module_utils.errors import AppleError
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import EVENT_TYPE_ASSOCIATE, EVENT_TYPE_DISASSOCIATE

# Synchronous answers that refuse one user of a batch, not the batch's other members.
UNKNOWN_USER = 9609
USER_DEVICE_LIMIT = 9622
MEMBER_REFUSALS = frozenset((UNKNOWN_USER, USER_DEVICE_LIMIT))
SPLITTABLE_TYPES = (EVENT_TYPE_ASSOCIATE, EVENT_TYPE_DISASSOCIATE)


class Hooks:
    """What the caller wants to hear about each batch; every method is optional (the default does nothing).

    ``handles_refusals``: the caller records refused members, so a refused batch is split instead of failing.
    """

    handles_refusals = True

    def before(self, batch):
        """About to send ``batch``: record the intent (a crash after this leaves it for the next run)."""

    def accepted(self, record):
        """Apple accepted the batch: ``record`` has ``event_id``, ``type`` and the batch's ids."""

    def refused(self, batch, error):
        """Apple refused the users of ``batch`` (a user batch of the refused members only) with ``error``."""

    def abandoned(self, batch):
        """The request for ``batch`` failed and Apple certainly queued nothing: forget its intent."""


class OnSubmit(Hooks):
    """Hooks of a caller that only wants each accepted record (refusals then fail the call, as any error)."""

    handles_refusals = False

    def __init__(self, on_submit=None):
        self._on_submit = on_submit

    def accepted(self, record):
        if self._on_submit is not None:
            self._on_submit(record)


def nothing_queued(error):
    """Whether a failed request certainly left nothing queued at Apple.

    Any answer from Apple (an HTTP status) means a synchronous refusal, and Apple queues nothing then; a request
    that got no answer at all (timeout, dropped connection) may have been accepted.
    """
    return error.http_status is not None


def refused_user_ids(error, users):
    """The users of ``users`` that Apple's ``errorInfo`` names, in order (empty when it names none of them).

    A malformed ``errorInfo`` (not an object, ``clientUserIds`` not a list, ids that are not strings) names
    nobody: the batch is then halved, which finds the refused users without trusting it.
    """
    info = getattr(error, "error_info", None)
    listed = info.get("clientUserIds") if isinstance(info, dict) else None
    named = {user_id for user_id in listed if isinstance(user_id, str)} if isinstance(listed, list) else set()
    return [user_id for user_id in users if user_id in named]


def splits(event_type, batch, error):
    """The batches to send instead of a refused one: ``(refused or None, [batches to try again])``, or None when
    the refusal is not a member's (another error, another event type, a batch naming devices).

    A batch of one user is that user's refusal. Users the error names are refused at once and the rest retried;
    otherwise the batch is halved and each half tried.
    """
    users = list(batch.get("client_user_ids") or ())
    member_refusal = event_type in SPLITTABLE_TYPES and error.error_number in MEMBER_REFUSALS
    if not member_refusal or not users or batch.get("serial_numbers"):
        return None
    if len(users) == 1:
        return batch, []
    named = refused_user_ids(error, users)
    if named:
        rest = [user_id for user_id in users if user_id not in set(named)]
        return dict(batch, client_user_ids=named), [dict(batch, client_user_ids=rest)] if rest else []
    middle = len(users) // 2
    return None, [dict(batch, client_user_ids=users[:middle]), dict(batch, client_user_ids=users[middle:])]


def submit_batches(send, event_type, batches, hooks=None, in_flight=1):
    """Send every batch with ``send(batch) -> eventId``, up to ``in_flight`` at once (in threads); returns the
    accepted records, in the order their answers were handled (the batches' order, split batches where they were).

    ``hooks`` are called from this thread only, an intent (``before``) always before its batch is sent, and every
    answer is handled in the batches' order. Member refusals (see the module docstring) split their batch when
    ``hooks.handles_refusals``; any other error stops the sending: the batches already in flight are still handled
    (Apple may have queued them), then the error is raised, after telling ``hooks.abandoned`` when nothing was
    queued, with the accepted event ids in its details.
    """
    hooks = hooks or OnSubmit()
    submitted, queue, sending, failure = [], collections.deque(batches), collections.deque(), None
    pool = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="vpp-writes") if in_flight > 1 else None
    try:
        while sending or (queue and failure is None):
            while queue and failure is None and len(sending) < max(in_flight, 1):
                batch = queue.popleft()
                hooks.before(batch)
                sending.append((batch, pool.submit(send, batch) if pool else _answered(send, batch)))
            batch, answer = sending.popleft()
            try:
                event_id = answer.result()
            except AppleError as err:
                if nothing_queued(err):
                    hooks.abandoned(batch)
                split = splits(event_type, batch, err) if hooks.handles_refusals else None
                if split is not None:
                    refused, retry = split
                    if refused is not None:
                        hooks.refused(refused, err)
                    queue.extendleft(reversed(retry))
                else:
                    failure = failure or err
                continue
            record = {
                "event_id": event_id,
                "type": event_type,
                "assets": batch.get("assets", []),
                "client_user_ids": batch.get("client_user_ids", []),
                "serial_numbers": batch.get("serial_numbers", []),
                "users": batch.get("users", []),
            }
            hooks.accepted(record)
            submitted.append(record)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    if failure is not None:
        # earlier batches are queued at Apple: say which, so the caller can still wait for them
        failure.details.setdefault("submitted_event_ids", [item["event_id"] for item in submitted])
        raise failure
    return submitted


def _answered(send, batch):
    """``send(batch)`` called now, its answer (or error) in a finished ``Future``."""
    answer = Future()
    try:
        answer.set_result(send(batch))
    except AppleError as err:
        answer.set_exception(err)
    return answer
