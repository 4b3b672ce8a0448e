"""The process transport's protocol, written down once (the Java side is ``io.ddbcdc.connect.engine.Frames``).

Every message is one frame; integers are little-endian, as in :mod:`python_connector.records.wire`::

    frame    := i32 length, payload[length]
    hello    := the secret's UTF-8 bytes              (the first frame on every connection, from the plugin)
    request  := JSON array [operation, args...]       e.g. ["poll", "<handle>"], ["validate", {config}]
    response := u8 status, body
                status 0 OK     body is JSON (null for nothing)
                status 1 BATCH  body is one wire batch exactly as the engine built it (``poll`` only)
                status 2 ERROR  body is JSON {"message": str, "retriable": bool}

The answer to the hello is an OK frame {"version", "pid"}; a wrong secret gets no answer (the connection closes).
The first authenticated connection is the control connection: the process exits when it closes.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

import orjson

from python_connector.engine import Failure

OK, BATCH, ERROR = 0, 1, 2
_LENGTH = struct.Struct("<i")
MAX_FRAME = 1 << 30  # a length beyond this is a broken stream, not a request


class ProtocolError(Exception):
    pass


def _read_exactly(sock: socket.socket, size: int) -> bytearray | None:
    """``size`` bytes, or None on end of stream before the first byte; a stream ending inside them is an error."""
    data = bytearray(size)
    view, got = memoryview(data), 0
    while got < size:
        n = sock.recv_into(view[got:])
        if n == 0:
            if got == 0:
                return None
            raise ProtocolError(f"the connection closed inside a frame ({got} of {size} bytes)")
        got += n
    return data


def read_frame(sock: socket.socket) -> bytearray | None:
    """The next frame's payload, or None when the peer closed the connection between frames."""
    head = _read_exactly(sock, _LENGTH.size)
    if head is None:
        return None
    (length,) = _LENGTH.unpack(head)
    if not 0 <= length <= MAX_FRAME:
        raise ProtocolError(f"bad frame length {length}")
    payload = _read_exactly(sock, length) if length else bytearray()
    if payload is None:
        raise ProtocolError("the connection closed after a frame's length")
    return payload


def _send(sock: socket.socket, status: int, body: bytes | bytearray) -> None:
    # Header and body go out in one sendmsg: no copy of a batch into a bigger buffer.
    head = _LENGTH.pack(1 + len(body)) + bytes((status,))
    sent = sock.sendmsg([head, body])
    if sent < len(head) + len(body):
        sock.sendall((head + body)[sent:] if sent < len(head) else memoryview(body)[sent - len(head):])


def send_ok(sock: socket.socket, value: Any) -> None:
    _send(sock, OK, orjson.dumps(value))


def send_batch(sock: socket.socket, batch: bytes | bytearray) -> None:
    _send(sock, BATCH, batch)


def send_error(sock: socket.socket, failure: Failure) -> None:
    _send(sock, ERROR, orjson.dumps({"message": failure.message, "retriable": failure.retriable}))
