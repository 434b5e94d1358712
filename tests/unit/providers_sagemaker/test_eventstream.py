"""The local server's event-stream frames, as botocore decodes them."""

from __future__ import annotations

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from botocore.exceptions import EventStreamError

from inference_core.local.eventstream import encode_message, payload_part, stream_exception

from .fakes import RawStream, event_stream


def test_a_payload_part_carries_its_bytes_verbatim() -> None:
    data = 'data: {"x": "é"}\n\n'.encode()
    events = list(event_stream(RawStream([payload_part(data), payload_part(b"more")])))
    assert events == [{"PayloadPart": {"Bytes": data}}, {"PayloadPart": {"Bytes": b"more"}}]


def test_frames_carry_the_headers_botocore_dispatches_on() -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(payload_part(b"abc"))
    (message,) = list(buffer)
    assert message.headers == {
        ":event-type": "PayloadPart",
        ":content-type": "application/octet-stream",
        ":message-type": "event",
    }
    assert message.payload == b"abc"


def test_a_model_stream_error_is_raised_by_the_iteration() -> None:
    stream = event_stream(
        RawStream([payload_part(b"a"), stream_exception("ModelStreamError", "cut", "StreamBroken")])
    )
    iterator = iter(stream)
    assert next(iterator) == {"PayloadPart": {"Bytes": b"a"}}
    with pytest.raises(EventStreamError) as caught:
        next(iterator)
    assert caught.value.response["Error"] == {"Code": "ModelStreamError", "Message": "cut"}


def test_a_corrupted_frame_is_refused() -> None:
    frame = bytearray(encode_message({":message-type": "event"}, b"payload"))
    frame[-6] ^= 0xFF
    buffer = EventStreamBuffer()
    buffer.add_data(bytes(frame))
    with pytest.raises(ChecksumMismatch):
        list(buffer)
