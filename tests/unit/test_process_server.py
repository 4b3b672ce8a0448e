"""The engine's process server, driven over its Unix socket as the plugin drives it (the framing of framing.py)."""

from __future__ import annotations

import socket
import struct
import threading

import orjson
import pytest

from python_connector.engine import Engine
from python_connector.process import framing
from python_connector.process.server import Server

SECRET = "s3cret"


class OneBatch:
    def __init__(self, raw, stored):
        self.blob: bytearray | None = bytearray(b"\x01\x02batch")

    def start(self):
        pass

    def poll(self):
        blob, self.blob = self.blob, None
        return blob

    def acknowledge(self, batch_id):
        pass

    def stop(self):
        pass


def frame(payload: bytes) -> bytes:
    return struct.pack("<i", len(payload)) + payload


def call(conn: socket.socket, *request) -> tuple[int, bytes]:
    conn.sendall(frame(orjson.dumps(list(request))))
    answer = framing.read_frame(conn)
    assert answer is not None
    return answer[0], bytes(answer[1:])


def connect(path: str, secret: str = SECRET) -> socket.socket:
    conn = socket.socket(socket.AF_UNIX)
    conn.connect(path)
    conn.sendall(frame(secret.encode()))
    return conn


@pytest.fixture
def server(tmp_path):
    path = str(tmp_path / "engine.sock")
    server = Server(Engine(task_factory=OneBatch), path, SECRET, "9.9.9")
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield server, path
    server.done.set()
    thread.join(15)


def test_operations_answer_json_and_poll_answers_the_batch_bytes_unchanged(server):
    _, path = server
    with connect(path) as control:
        hello = framing.read_frame(control)
        assert hello[0] == framing.OK and orjson.loads(bytes(hello[1:]))["version"] == "9.9.9"
        status, body = call(control, "validate", {"dynamodb.table.sync.mode": "NOPE"})
        assert status == framing.OK and "dynamodb.table.sync.mode" in orjson.loads(body)
        status, handle = call(control, "startTask", {}, [])
        assert status == framing.OK
        assert call(control, "poll", orjson.loads(handle)) == (framing.BATCH, b"\x01\x02batch")
        assert call(control, "poll", orjson.loads(handle)) == (framing.OK, b"null")
        status, body = call(control, "taskConfigs", {"dynamodb.table.includelist": "t"}, "x", [])
        assert status == framing.ERROR and orjson.loads(body)["retriable"] is False
        status, body = call(control, "nope")
        assert status == framing.ERROR and "KeyError('nope')" in orjson.loads(body)["message"]
        control.sendall(frame(b"{not json"))
        answer = framing.read_frame(control)
        assert answer[0] == framing.ERROR and "Bad request" in orjson.loads(bytes(answer[1:]))["message"]


def test_a_wrong_secret_gets_no_answer_and_closing_the_control_connection_ends_the_server(server):
    srv, path = server
    with connect(path, "wrong") as intruder:
        assert framing.read_frame(intruder) is None
    control = connect(path)
    assert framing.read_frame(control) is not None
    second = connect(path)
    assert framing.read_frame(second) is not None
    second.close()
    assert not srv.done.wait(0.5)  # only the control connection's end stops the engine
    control.close()
    assert srv.done.wait(10)
