"""The app under load and under hostile requests (issue 21, section 3): the tester's reproducers.

Every test drives a real server on a free port with a small ensemble (the 12-week fixture, 20
replicates), so a burst of requests is a burst of queued simulations, not minutes of work.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from model.app.server import POOL, Session, make_server, parse_body
from model.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = str(ROOT / "tests" / "fixtures" / "app_lever.yaml")
N = 20
OK = {"X-Entente": "1", "Content-Type": "application/json"}


class Served:
    def __init__(self, tmp_path: Path, **limits):
        self.session = Session(FIXTURE, tmp_path, tmp_path / "runs", N)
        self.server = make_server(self.session, "127.0.0.1", 0, **limits)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def post(self, path: str, body, headers=None, timeout: float = 60) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        conn.request("POST", path, raw, {**OK, **(headers or {})})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        if r.getheader("Content-Type") != "application/json":
            return r.status, {"text": data.decode()}
        return r.status, json.loads(data)

    def raw(self, data: bytes, timeout: float = 10) -> bytes:
        """Send bytes as they are (headers a client library would not let through); the whole answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(data)
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def _state(**kw):
    return {"scenario": FIXTURE, "replicates": N, **kw}


@pytest.mark.slow
def test_twenty_simultaneous_updates_and_replicates_are_all_answered(tmp_path):
    """Was: 20 simultaneous /api/update -> 1 connection reset, 20 /api/replicate -> 8 (listen backlog 5)."""

    def burst(app: Served, call) -> list[tuple[int, dict]]:
        start = threading.Barrier(20)

        def one(k: int):
            start.wait()
            return call(k)

        with ThreadPoolExecutor(20) as pool:
            return list(pool.map(one, range(20)))

    with Served(tmp_path) as app:
        updates = burst(app, lambda k: app.post("/api/update", _state(fixed={"world.temperature": 0.05 + k % 4 / 100})))
        picks = burst(app, lambda k: app.post("/api/replicate", {"state": _state(), "pick": "worst"}))
    for answers in (updates, picks):
        assert [s for s, _ in answers] == [200] * 20  # no reset, no refusal: 20 fit the simulation queue
        assert all("errors" not in b for _, b in answers), [b["errors"] for _, b in answers if "errors" in b][:3]
        assert any(b.get("queue", {}).get("behind", 0) >= 1 for _, b in answers)  # one that waited says so


SLOW_CLIENTS = 1500 if os.environ.get("ENTENTE_FULL_LOAD") else 200  # the tester's count, or a fast variant


def test_slow_clients_hold_at_most_the_pool_and_time_out(tmp_path):
    """Was: 1,500 slow requests held 1,500 threads (ENTENTE_FULL_LOAD=1 sends 1,500, with ulimit -n above 1,600)."""
    before = threading.active_count()
    with Served(tmp_path, read_timeout=0.5) as app:
        socks = []
        for _ in range(SLOW_CLIENTS):
            s = socket.create_connection(("127.0.0.1", app.port), timeout=5)
            s.sendall(b"POST /api/update HTTP/1.1\r\nHost: 127.0.0.1")  # and then nothing
            socks.append(s)
        time.sleep(0.3)
        assert threading.active_count() - before <= POOL + 2
        time.sleep(1.5)  # past the read timeout: the silent ones are dropped
        status, body = app.post("/api/update", _state(), timeout=30)
        assert status == 200 and "errors" not in body
        assert threading.active_count() - before <= POOL + 2
        for s in socks:
            s.close()


def test_a_client_that_hangs_up_is_not_a_traceback(tmp_path, capfd):
    """Was: 4,161 BrokenPipe tracebacks in a session."""
    with Served(tmp_path) as app:
        body = json.dumps(_state(fixed={"world.temperature": 0.07})).encode()
        for _ in range(5):
            s = socket.create_connection(("127.0.0.1", app.port))
            s.sendall(
                b"POST /api/update HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Entente: 1\r\nContent-Length: %d\r\n\r\n"
                % (app.port, len(body))
                + body
            )
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()  # a reset, before the (large) answer is written
        status, _ = app.post("/api/update", _state())
        assert status == 200
        time.sleep(0.2)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "BrokenPipe" not in err and "ConnectionReset" not in err, err[:500]


def test_requests_whose_clients_left_do_not_hold_places_in_the_queue(tmp_path):
    with Served(tmp_path) as app:
        body = json.dumps(_state()).encode()
        app.session.queue.lock.acquire()  # a long simulation is running
        try:
            for _ in range(5):
                s = socket.create_connection(("127.0.0.1", app.port))
                s.sendall(
                    b"POST /api/update HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Entente: 1\r\nContent-Length: %d\r\n\r\n"
                    % (app.port, len(body))
                    + body
                )
                time.sleep(0.2)  # read and waiting
                s.close()
            deadline = time.monotonic() + 5
            while app.session.queue.waiting and time.monotonic() < deadline:
                time.sleep(0.05)
            assert app.session.queue.waiting == 0  # each left the queue when its client hung up
        finally:
            app.session.queue.lock.release()
        status, body = app.post("/api/update", _state())
        assert status == 200 and "queue" not in body


def test_save_onto_a_fifo_refuses_without_blocking_the_session(tmp_path):
    """Was: Save onto a FIFO in the save folder blocked every other request while it held the session lock."""
    os.mkfifo(tmp_path / "piped.yaml")
    with Served(tmp_path) as app:
        status, body = app.post("/api/save", {"state": _state(), "name": "piped"}, timeout=10)
        assert status == 200 and "not a regular file" in body["errors"][0]
        status, body = app.post("/api/update", _state(), timeout=10)
        assert status == 200 and "errors" not in body


def test_saving_as_a_shipped_name_is_refused(tmp_path):
    """Was: saving as 'baseline' shadowed the shipped baseline for 'extends: baseline' in that folder."""
    with Served(tmp_path) as app:
        for name in ("baseline", "Baseline", "us_joins_strikes"):
            status, body = app.post("/api/save", {"state": _state(), "name": name})
            assert "is the name of a shipped scenario" in body["errors"][0], body
        assert not list(tmp_path.glob("*.yaml"))


@pytest.mark.parametrize(
    "body, words",
    [
        (b'{"scenario": "\xff\xfe"}', "not UTF-8"),
        (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
        (b'{"scenario": "x", "replicates": ' + b"7" * 5000 + b"}", "5000 digits"),
        (b'{"replicates": NaN}', "NaN is not a number"),
        (b'{"replicates": 1e999}', "not a finite number"),
        (b'{"scenario": ', "was not JSON"),
    ],
)
def test_malformed_bodies_are_one_sentence(body, words):
    with pytest.raises(InputError) as e:
        parse_body(body)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_hostile_requests_get_an_answer_and_the_server_survives(tmp_path, capfd):
    """Was: internal errors for invalid UTF-8, deep JSON, 5,000 digits, Content-Length: abc, pick '²'."""
    with Served(tmp_path) as app:
        port = app.port
        head = f"POST /api/update HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Entente: 1\r\n"
        for body in (b'{"scenario": "\xff"}', b"[" * 200_000, b'{"replicates": ' + b"9" * 5000 + b"}"):
            answer = app.raw(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
            assert answer.startswith(b"HTTP/1.1 200") and b'"errors"' in answer and b"internal error" not in answer
        answer = app.raw(f"{head}Content-Length: abc\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 400") and b"Content-Length must be a number" in answer
        for pick in ("²", "٣", "1" * 5000, ["worst"], None):
            status, body = app.post("/api/replicate", {"state": _state(), "pick": pick})
            assert status == 200 and body["errors"] and "internal error" not in body["errors"][0], (pick, body)
        status, body = app.post("/api/replicate", {"state": _state(), "pick": "3"})
        assert "errors" not in body and body
        # the Host is parsed whole: 'localhost:80@evil.com' is not localhost
        for host in (f"localhost:{port}@evil.com", "localhost.evil.com", f"localhost:{port + 1}", "localhost"):
            assert app.post("/api/update", _state(), {"Host": host})[0] == 403, host
        assert app.post("/api/update", _state(), {"Host": f"localhost:{port}"})[0] == 200
    assert "internal error" not in capfd.readouterr().err


def test_host_open_to_the_network_warns(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "model", "app", FIXTURE, "--host", "0.0.0.0", "--port", "0", "--replicates", "20"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stderr.readline()
        assert "warning: --host 0.0.0.0 makes the app reachable from other machines" in line
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
