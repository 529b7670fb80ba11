# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""submission.py: users Apple refuses synchronously leave their batch, the other batches still go out, intents."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import AppleError, ServiceUnavailableError, error_for
from ansible_collections.mdm.vpp.plugins.module_utils.submission import Hooks, submit_batches

ASSET = [{"adamId": "1", "pricingParam": "STDQ"}]


def users_batch(*users):
    return {"assets": ASSET, "client_user_ids": list(users), "serial_numbers": []}


class Apple:
    """``send`` refusing, like Apple, any batch naming an unknown user (9609), optionally naming them."""

    def __init__(self, unknown, name_them=False, error_number=9609):
        self.unknown, self.name_them, self.error_number = set(unknown), name_them, error_number
        self.requests = []

    def __call__(self, sent):
        self.requests.append(list(sent["client_user_ids"]))
        refused = [user for user in sent["client_user_ids"] if user in self.unknown]
        if refused:
            error = error_for(self.error_number, "Unable to find the registered user.", http_status=400)
            error.error_info = {"clientUserIds": refused} if self.name_them else None
            raise error
        return "event-%d" % len(self.requests)


class Recorder(Hooks):
    def __init__(self):
        self.calls = []

    def before(self, batch):
        self.calls.append(("before", tuple(batch["client_user_ids"])))

    def accepted(self, record):
        self.calls.append(("accepted", tuple(record["client_user_ids"])))

    def refused(self, batch, error):
        self.calls.append(("refused", tuple(batch["client_user_ids"]), error.error_number))

    def abandoned(self, batch):
        self.calls.append(("abandoned", tuple(batch["client_user_ids"])))

    def of(self, kind):
        return [call[1:] for call in self.calls if call[0] == kind]


def test_users_apple_names_are_refused_and_the_rest_of_the_batch_is_sent_once_more():
    apple, hooks = Apple({"u-3"}, name_them=True), Recorder()
    records = submit_batches(apple, "ASSOCIATE", [users_batch("u-1", "u-2", "u-3", "u-4"), users_batch("u-5")], hooks)
    assert apple.requests == [["u-1", "u-2", "u-3", "u-4"], ["u-1", "u-2", "u-4"], ["u-5"]]
    assert hooks.of("refused") == [(("u-3",), 9609)]
    assert [record["client_user_ids"] for record in records] == [["u-1", "u-2", "u-4"], ["u-5"]]
    assert hooks.of("abandoned") == [(("u-1", "u-2", "u-3", "u-4"),)]  # a synchronous refusal queued nothing


def test_without_errorinfo_the_batch_is_halved_until_each_unknown_user_stands_alone():
    users = ["u-%02d" % index for index in range(16)]
    apple, hooks = Apple({"u-03", "u-12"}), Recorder()
    records = submit_batches(apple, "ASSOCIATE", [users_batch(*users)], hooks)
    assert sorted(call[0][0] for call in hooks.of("refused")) == ["u-03", "u-12"]
    licensed = sorted(user for record in records for user in record["client_user_ids"])
    assert licensed == sorted(set(users) - {"u-03", "u-12"})
    assert len(apple.requests) <= 2 * 2 * 4 + 1  # about k * 2 * log2(n): bounded, not one request per user


def test_a_user_at_its_device_limit_9622_is_a_member_refusal_not_a_token_problem():
    apple, hooks = Apple({"u-2"}, error_number=9622), Recorder()
    submit_batches(apple, "ASSOCIATE", [users_batch("u-1", "u-2")], hooks)
    assert hooks.of("refused") == [(("u-2",), 9622)]
    assert hooks.of("accepted") == [(("u-1",),)]


def test_without_hooks_a_refusal_fails_the_call_naming_the_events_already_queued():
    apple = Apple({"u-9"})
    with pytest.raises(AppleError) as raised:
        submit_batches(apple, "ASSOCIATE", [users_batch("u-1"), users_batch("u-9"), users_batch("u-2")])
    assert raised.value.error_number == 9609 and raised.value.details["submitted_event_ids"] == ["event-1"]
    assert apple.requests == [["u-1"], ["u-9"]]


def test_an_intent_is_recorded_before_each_send_and_kept_when_no_answer_came():
    hooks = Recorder()

    def unanswered(sent):
        raise ServiceUnavailableError("POST /assets/associate: no answer within the timeout")  # no HTTP status

    with pytest.raises(ServiceUnavailableError):
        submit_batches(unanswered, "ASSOCIATE", [users_batch("u-1")], hooks)
    assert hooks.of("before") == [(("u-1",),)] and hooks.of("abandoned") == []  # Apple may have accepted it


def test_serial_batches_are_never_split_a_9609_there_is_an_error():
    hooks = Recorder()

    def refuse(sent):
        raise error_for(9609, "Unable to find the registered user.", http_status=400)

    devices = {"assets": ASSET, "client_user_ids": [], "serial_numbers": ["SN-1", "SN-2"]}
    with pytest.raises(AppleError):
        submit_batches(refuse, "ASSOCIATE", [devices], hooks)
    assert hooks.of("refused") == []


class SlowApple(Apple):
    """``Apple`` answering only once ``in_flight`` requests are waiting together: sent one after the other, every
    request would wait out the barrier and fail."""

    def __init__(self, unknown, in_flight, **kwargs):
        super().__init__(unknown, **kwargs)
        self.together = threading.Barrier(in_flight, timeout=10)
        self.lock = threading.Lock()

    def __call__(self, sent):
        self.together.wait()
        with self.lock:
            return super().__call__(sent)


def test_batches_in_flight_together_are_each_recorded_before_sending_and_after_the_answer_in_order():
    apple, hooks = SlowApple((), in_flight=3), Recorder()
    batches = [users_batch("u-%d" % index) for index in range(6)]
    records = submit_batches(apple, "ASSOCIATE", batches, hooks, in_flight=3)
    assert [record["client_user_ids"] for record in records] == [batch["client_user_ids"] for batch in batches]
    assert sorted(apple.requests) == [[batch["client_user_ids"][0]] for batch in batches]
    # every intent before its send, every answer handled in the batches' order, from the calling thread
    assert hooks.of("accepted") == [(("u-%d" % index,),) for index in range(6)]
    befores = [index for index, call in enumerate(hooks.calls) if call[0] == "before"]
    accepts = [index for index, call in enumerate(hooks.calls) if call[0] == "accepted"]
    assert all(before < accept for before, accept in zip(befores, accepts, strict=True))


def test_an_error_in_flight_stops_the_sending_but_the_batches_already_sent_are_recorded():
    apple = SlowApple({"u-1"}, in_flight=1)  # answers at once, one request at a time
    hooks = Recorder()
    hooks.handles_refusals = False  # a refusal is then an error like any other
    with pytest.raises(AppleError) as raised:
        submit_batches(apple, "ASSOCIATE", [users_batch("u-%d" % index) for index in range(6)], hooks, in_flight=3)
    # u-0..u-2 went out together, u-3 when u-0's answer was handled; u-1's error stopped the rest
    assert sorted(apple.requests) == [["u-0"], ["u-1"], ["u-2"], ["u-3"]]
    assert hooks.of("accepted") == [(("u-0",),), (("u-2",),), (("u-3",),)] and hooks.of("abandoned") == [(("u-1",),)]
    accepted = [call for call in hooks.calls if call[0] == "accepted"]
    assert raised.value.error_number == 9609 and len(raised.value.details["submitted_event_ids"]) == len(accepted)


def test_refused_users_of_batches_in_flight_together_are_split_out_and_the_rest_licensed():
    apple, hooks = SlowApple({"u-3"}, in_flight=2, name_them=True), Recorder()
    apple.together = threading.Barrier(1)  # the split batch may go out alone
    records = submit_batches(apple, "ASSOCIATE", [users_batch("u-1", "u-2"), users_batch("u-3", "u-4")], hooks,
                             in_flight=2)  # fmt: skip
    assert hooks.of("refused") == [(("u-3",), 9609)]
    assert sorted(user for record in records for user in record["client_user_ids"]) == ["u-1", "u-2", "u-4"]
