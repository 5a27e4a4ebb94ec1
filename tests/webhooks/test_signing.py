"""Signatures checked by the Standard Webhooks reference library, not by our own code."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from imageuploader.webhooks import signing


def test_secret_is_whsec_and_base64_of_random_bytes() -> None:
    first, second = signing.new_secret(), signing.new_secret()
    assert first.startswith("whsec_") and second.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32
    assert first != second


def test_reference_library_verifies_our_signature() -> None:
    secret = signing.new_secret()
    body = '{"type":"image.ready","timestamp":"2026-11-30T06:00:00Z","data":{"id":"x"}}'
    headers = signing.headers(secret, signing.new_message_id(), int(time.time()), body)
    assert Webhook(secret).verify(body, headers) == {
        "type": "image.ready",
        "timestamp": "2026-11-30T06:00:00Z",
        "data": {"id": "x"},
    }


@pytest.mark.parametrize("tamper", ["body", "secret", "id"])
def test_reference_library_rejects_a_changed_message(tamper: str) -> None:
    secret, body, message_id = signing.new_secret(), '{"a":1}', "msg_1"
    headers = signing.headers(secret, message_id, int(time.time()), body)
    if tamper == "body":
        body = '{"a":2}'
    elif tamper == "secret":
        secret = signing.new_secret()
    else:
        headers["webhook-id"] = "msg_2"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)


def test_known_answer_from_the_specification_examples() -> None:
    # The example in the Standard Webhooks / Svix documentation.
    assert (
        signing.signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            '{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
