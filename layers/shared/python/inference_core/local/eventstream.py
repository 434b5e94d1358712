"""AWS event-stream framing, as SageMaker's `InvokeEndpointWithResponseStream` sends it.

Each frame is: total length and headers length (uint32, big-endian), a CRC32 of those eight bytes,
the headers (name length uint8, name, value type uint8 = 7 for a string, value length uint16,
value), the payload, and a CRC32 of everything before it. botocore's `EventStreamBuffer` decodes
them; a `PayloadPart` event carries its `Bytes` blob as the raw frame payload (`eventpayload`).
"""

from __future__ import annotations

import binascii
import json
import struct

_STRING_HEADER = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream frame with string-valued headers."""
    encoded_headers = b"".join(_encode_header(name, value) for name, value in headers.items())
    total_length = _PRELUDE.size + _CRC.size + len(encoded_headers) + len(payload) + _CRC.size
    prelude = _PRELUDE.pack(total_length, len(encoded_headers))
    head = prelude + _CRC.pack(binascii.crc32(prelude) & 0xFFFFFFFF) + encoded_headers + payload
    return head + _CRC.pack(binascii.crc32(head) & 0xFFFFFFFF)


def payload_part(data: bytes) -> bytes:
    """A `PayloadPart` event: a piece of the model's response body."""
    return encode_message(
        {
            ":event-type": "PayloadPart",
            ":content-type": "application/octet-stream",
            ":message-type": "event",
        },
        data,
    )


def stream_exception(exception_type: str, message: str, error_code: str | None = None) -> bytes:
    """A modeled error event (`ModelStreamError` or `InternalStreamFailure`) that ends a stream.

    botocore raises it from the iteration as an `EventStreamError` with this code and message.
    """
    body: dict[str, str] = {"Message": message}
    if error_code is not None:
        body["ErrorCode"] = error_code
    return encode_message(
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        json.dumps(body).encode(),
    )


def _encode_header(name: str, value: str) -> bytes:
    raw_name = name.encode("utf-8")
    raw_value = value.encode("utf-8")
    if len(raw_name) > 255 or len(raw_value) > 65535:
        raise ValueError(f"event-stream header {name!r} is too long")
    return (
        struct.pack(">B", len(raw_name))
        + raw_name
        + struct.pack(">BH", _STRING_HEADER, len(raw_value))
        + raw_value
    )
