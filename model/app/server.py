"""The app's web layer: Python's own HTTP server, one static page, a small JSON API.

Why not a framework: the page needs a handful of controls, three charts and some tables;
the standard library serves them with no extra dependency, nothing fetched from a CDN, a
start-up of about two seconds, and a test can drive it with plain HTTP. ``Session`` holds
what one analyst has on screen (the last ensemble, the pinned reference) and turns every
request into JSON; errors become the located lines of ``entente validate``, never a traceback.

Safety: it binds 127.0.0.1 unless told otherwise; every POST must carry the ``X-Entente``
header (a page on another site cannot send it without a CORS preflight this server never
grants) and a Host header naming this server (no DNS rebinding); Save writes only a plain
file name into the folder the app was started in.

Load: a fixed pool of threads serves connections taken from a bounded queue behind a real listen
backlog (a burst of requests waits instead of being reset; beyond the queue a request gets a
503 at once), every connection has a read timeout (a slow or silent client holds one thread for
seconds, not forever), simulations queue for the session one at a time and a request that waited
says so (``queue`` in its answer), and a client that hangs up is not a traceback.
"""

from __future__ import annotations

import json
import os
import queue
import re
import select
import signal
import socket
import stat
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from model.app import logic
from model.errors import InputError, RunError

STATIC = Path(__file__).parent / "static"
MAX_BODY = 1_000_000
POOL = 32  # threads serving connections; never more, whatever arrives
BACKLOG = 128  # the listen backlog (the standard library's default of 5 reset bursts of 20)
ACCEPTED = 128  # accepted connections waiting for a thread; beyond it a 503 answers at once
MAX_WAITING = 24  # simulations waiting for the session; the rest of the pool stays free for the page
READ_TIMEOUT = 10.0  # seconds a connection may stay silent while its request is read
BODY_SECONDS = 30.0  # a request body must arrive within this, however it trickles
MAX_DIGITS = 30  # whole numbers in a request body (a replicate count has at most 8)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Busy(Exception):
    """Too many simulations are already waiting; the client should try again shortly."""


class ClientGone(Exception):
    """The client hung up while its request waited for the simulator: nobody would read the answer."""


_REQUEST = threading.local()  # the connection a pool thread serves (its ``gone`` check), for the queue


class SimulationQueue:
    """One simulation at a time for the session, a bounded number waiting, each told how long it waited.

    Why: the session's ensemble cache and pinned reference are one analyst's state, so simulations
    take turns; a burst of requests must neither block every thread of the pool (the page itself
    would stop answering) nor fail silently.
    """

    def __init__(self, max_waiting: int = MAX_WAITING) -> None:
        self.lock = threading.Lock()
        self._count = threading.Lock()
        self.waiting = 0
        self.max_waiting = max_waiting

    @contextmanager
    def turn(self) -> Iterator[dict[str, Any]]:
        """Hold the session; yields what the answer says about the wait (empty when there was none)."""
        t0 = time.perf_counter()
        gone = getattr(_REQUEST, "gone", None) or (lambda: False)
        if self.lock.acquire(blocking=False):
            ahead = None
        else:
            if gone():
                raise ClientGone
            with self._count:
                if self.waiting >= self.max_waiting:
                    raise Busy(
                        f"the app is busy: {self.waiting} requests are already waiting for the simulator;"
                        " try again in a moment"
                    )
                self.waiting += 1
                ahead = self.waiting
            try:
                while not self.lock.acquire(timeout=0.25):  # a waiter whose client left frees its place
                    if gone():
                        raise ClientGone
            finally:
                with self._count:
                    self.waiting -= 1
            if gone():
                self.lock.release()
                raise ClientGone
        info: dict[str, Any] = {}
        if ahead is not None:
            info = {"waited_seconds": round(time.perf_counter() - t0, 3), "behind": ahead}
        try:
            yield info
        finally:
            self.lock.release()


class Session:
    """What the page shows, computed on request; simulations take turns (one analyst drives it)."""

    def __init__(self, scenario: str, folder: Path, runs: Path, replicates: int = logic.DEFAULT_REPLICATES) -> None:
        self.scenario = logic.resolve_scenario(scenario)
        self.replicates = replicates  # the page's initial ensemble size
        self.folder = Path(folder)  # where Save writes
        self.runs = Path(runs)  # where Run writes run folders
        self.queue = SimulationQueue()
        self._cache: dict[str, tuple[Any, dict[str, Any], Any]] = {}
        self.reference: dict[str, Any] | None = None

    # -------------------------------------------------------------- helpers
    def allowed(self, text: str) -> str:
        """A scenario a request may open, checked before it is read.

        A shipped one, the one the app started with, or a YAML file under the folder it started
        in or the folder of its scenario. Anything else (``/etc/passwd``, ``../..``) is refused,
        so no other file's content reaches an error message.
        """
        for shipped in logic.scenario_choices():
            if text in (shipped["name"], shipped["path"]):
                return text
        if text == self.scenario:
            return text
        try:
            real = Path(text).resolve()
        except (OSError, RuntimeError, ValueError):
            real = None
        roots = {Path.cwd().resolve(), Path(self.scenario).resolve().parent, self.folder.resolve()}
        if real is not None and real.suffix in (".yaml", ".yml") and any(real.is_relative_to(r) for r in roots):
            return text
        raise InputError.one(
            logic.SOURCE,
            f"scenario: the app opens shipped scenarios and .yaml files under {Path.cwd()}; not this path",
        )

    def _state(self, data: Any) -> logic.State:
        state = logic.State.from_json(data)
        self.allowed(state.scenario)
        return state

    def _ensemble(self, state: logic.State) -> tuple[Any, dict[str, Any], Any]:
        # keyed by what is simulated (the resolved document), so an edited scenario file is re-run
        sc, doc = logic.build(state)
        key = json.dumps([sc.digest, sc.replicates, sc.seed])
        if key not in self._cache:
            res = logic.run_ensemble(sc)
            self._cache = {k: v for k, v in list(self._cache.items())[-2:]}  # the last few settings
            self._cache[key] = (sc, doc, res)
        return self._cache[key]

    # -------------------------------------------------------------- requests
    def start(self) -> dict[str, Any]:
        return {"scenarios": logic.scenario_choices(), "scenario": self.scenario, "replicates": self.replicates}

    def controls(self, data: dict[str, Any]) -> dict[str, Any]:
        path = data.get("scenario")
        if not isinstance(path, str) or not path.strip():
            raise InputError.one(logic.SOURCE, "choose a scenario (a shipped one or a scenario file)")
        return logic.controls(self.allowed(path.strip()))

    def update(self, data: dict[str, Any]) -> dict[str, Any]:
        """Re-run the ensemble for the page's setting; everything the page draws."""
        state = self._state(data)
        with self.queue.turn() as waited:
            t0 = time.perf_counter()
            sc, _doc, res = self._ensemble(state)
            t_sim = time.perf_counter() - t0
            ref = self.reference
            note = logic.comparable(ref["scenario"], sc) if ref else None
            view = logic.View.from_json(data.get("view"), sc.config.spec)
            charts, series = _charts(sc, res, view, ref["scenario"] if ref and not note else None,
                                     ref["result"] if ref and not note else None)  # fmt: skip
            out = {
                "name": sc.name,
                **dict(zip(("title", "question"), logic.header(sc.name, sc.title, sc.question, sc.chain), strict=True)),
                "replicates": sc.replicates,
                "seed": sc.seed,
                "horizon": sc.horizon,
                "start_date": sc.start_date,
                "charts": charts,
                "series": series,
                "view": {"plot": view.variables, "lines": view.lines},
                "plottable": logic.plottable(sc.config.spec),
                "network": logic.network(res, sc),
                "pick_by": logic.pick_default(sc),
                "outcomes": logic.outcomes_table(res, sc),
                "bindings": logic.bindings(res, sc),
                "reference": None,
                "differences": None,
                "settings": state.settings(),
                "command": _command(state, sc),
            }
            if ref:
                out["reference"] = {"label": ref["label"], "note": note}
                if note is None:
                    out["differences"] = logic.differences(ref["result"], res, sc)
            out["seconds"] = {"simulate": round(t_sim, 3), "total": round(time.perf_counter() - t0, 3)}
        return _waited(out, waited)

    def pin(self, data: dict[str, Any]) -> dict[str, Any]:
        """Pin the page's current setting as the reference for paired differences."""
        state = self._state(data)
        with self.queue.turn() as waited:
            sc, _doc, res = self._ensemble(state)
            changed = ", ".join(f"{k}={v}" for k, v in state.settings().items()) or "as in the file"
            self.reference = {"scenario": sc, "result": res, "label": f"{sc.name} ({changed})"}
            label = self.reference["label"]
        return _waited({"pinned": label}, waited)

    def unpin(self, _data: dict[str, Any]) -> dict[str, Any]:
        with self.queue.turn() as waited:
            self.reference = None
        return _waited({"pinned": None}, waited)

    def replicate(self, data: dict[str, Any]) -> dict[str, Any]:
        """One replicate's narrative and decisions: picked worst/median/best by an outcome, or by number."""
        state = self._state(data.get("state"))
        how = data.get("pick", "median")
        if isinstance(how, str) and how.strip().isascii() and how.strip().isdigit():  # not '²' or '٣'
            if len(how.strip()) > 9:
                raise InputError.one(logic.SOURCE, f"no replicate has the number {how.strip()[:20]}", key="replicate")
            how = int(how.strip())
        elif not isinstance(how, str | int) or isinstance(how, bool):
            raise InputError.one(logic.SOURCE, "pick worst, median, best or a replicate number", key="replicate")
        by = data.get("by") or ""
        if not isinstance(by, str):
            raise InputError.one(logic.SOURCE, "expected an outcome name", key="by")
        with self.queue.turn() as waited:
            sc, _doc, res = self._ensemble(state)
            rep = logic.pick(res, how, by or logic.pick_default(sc))
            return _waited(logic.replicate_story(sc, res, rep), waited)

    def save(self, data: dict[str, Any]) -> dict[str, Any]:
        """Write the current setting as a scenario file (validated by reading it back as `entente validate` does).

        The file is checked and written after the session is released: whatever sits at the
        path (a FIFO, a device, a slow disk) can hold this request only, never the others.
        """
        from model.files import write_text
        from model.scenario import shipped, validate

        state = self._state(data.get("state"))
        raw = data.get("name")
        name = logic.safe_name(raw if isinstance(raw, str) else "")
        if name.lower() in {p.stem.lower() for p in shipped()}:
            raise InputError.one(
                logic.SOURCE,
                f"'{name}' is the name of a shipped scenario: a file of that name here would replace it for"
                f" 'extends: {name}' in {self.folder}; choose another name",
                key="name",
            )
        with self.queue.turn() as waited:
            _sc, doc, _res = self._ensemble(state)
            text = logic.scenario_yaml(doc, state, name)
        path = logic.save_path(self.folder, name)
        _check_overwrite(path)
        write_text(path, text)
        issues = validate(path)
        out = {"path": str(path), "yaml": text, "valid": not issues, "errors": [str(i) for i in issues]}
        return _waited(out, waited)

    def run(self, data: dict[str, Any]) -> dict[str, Any]:
        """Write a normal run folder of the current setting, with the code `entente run` uses."""
        from model import workflow
        from model.execution import RunOptions

        state = self._state(data.get("state"))
        with self.queue.turn() as waited:  # a run is a simulation too: one at a time
            sc, _doc, _res = self._ensemble(state)
            t0 = time.perf_counter()
            folder = workflow.run_scenario(
                sc, self.runs, RunOptions(workers=1, quiet=True), ["entente", "app", state.scenario]
            )
        out = {
            "folder": str(folder),
            "summary": str(folder / "summary.md"),
            "seconds": round(time.perf_counter() - t0, 1),
        }
        return _waited(out, waited)


def _waited(out: dict[str, Any], waited: dict[str, Any]) -> dict[str, Any]:
    """The answer, saying how long it waited for other simulations and behind how many (when it did)."""
    if waited:
        out["queue"] = waited
    return out


def _check_overwrite(path: Path) -> None:
    """Save may replace only a regular file the app wrote; read its first bytes without ever blocking."""
    from model.safeyaml import read_regular

    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError.one(str(path), f"cannot check the file: {exc.strerror or exc}", 1, 1) from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError.one(
            str(path), "exists and is not a regular file (a link, pipe, socket or device); choose another name", 1, 1
        )
    head = read_regular(path, str(path), limit=MAX_BODY * 2)[: len(logic.SAVED_HEADER.encode())]
    if head.decode("utf-8", "replace") != logic.SAVED_HEADER:
        raise InputError.one(
            str(path), "exists and was not written by the app; choose another name (it is left as it is)", 1, 1
        )


def _charts(sc: Any, res: Any, view: Any, ref_sc: Any, ref_res: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """The chosen variables' fan charts as SVG (the reference's median and band drawn in) and their numbers."""
    from model.app.figures import fan_svg

    fans = logic.fans(res, sc, view.variables, view.lines)
    ref = logic.fans(ref_res, ref_sc, view.variables, 0) if ref_res is not None else {}
    charts = {v: fan_svg(fans[v], ref.get(v), fans[v].get("levels")) for v in view.variables}
    return charts, {"current": fans, "reference": ref}


def _command(state: logic.State, sc: Any) -> str:
    import os

    where = logic.resolve_scenario(state.scenario)
    rel = os.path.relpath(where)
    where = where if rel.startswith("..") else rel
    if not state.settings():
        return f"Reproduce: entente run {where} --replicates {sc.replicates}"
    return f"Save, then: entente run <saved file> (the settings are not in {where})"


ROUTES = {
    "/api/controls": "controls",
    "/api/update": "update",
    "/api/pin": "pin",
    "/api/unpin": "unpin",
    "/api/replicate": "replicate",
    "/api/save": "save",
    "/api/run": "run",
}


_HOST = re.compile(r"(?:\[(?P<v6>[0-9A-Fa-f:.]{2,45})\]|(?P<name>[A-Za-z0-9.-]{1,253}))(?::(?P<port>[0-9]{1,5}))?")


class RequestError(Exception):
    """A request the server answers with an HTTP status and one sentence (not a JSON error of the page)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Handler(BaseHTTPRequestHandler):
    """Static page and JSON API; errors go back as {"errors": [...]}, never as a traceback."""

    session: Session
    server_version = "entente-app"
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT  # StreamRequestHandler applies it to the socket: a silent client is dropped

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        return  # quiet: the terminal shows the address and errors only

    def _host_ok(self) -> bool:
        """The Host header names this server exactly: a loopback name or the bound address, and its port.

        Parsed whole, so ``localhost:80@evil.com`` or ``localhost.evil.com`` is not taken for localhost.
        """
        m = _HOST.fullmatch((self.headers.get("Host") or "").strip())
        if m is None:
            return False
        host = (m.group("v6") or m.group("name") or "").lower()
        bound_host, bound_port = self.server.server_address[:2]
        port = m.group("port")
        if port is None:
            if bound_port != 80:
                return False
        elif int(port) != bound_port:
            return False
        return host in (*LOOPBACK, str(bound_host).lower())

    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self.close_connection = True  # one request per connection: an idle keep-alive never holds a thread
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Connection", "close")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
        except (ConnectionError, TimeoutError):
            pass  # the client hung up: nothing to tell it, nothing to print

    def _json(self, status: int, obj: Any, extra: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj, allow_nan=False, default=_jsonable).encode(), "application/json", extra)

    def do_GET(self) -> None:
        if not self._host_ok():
            self._send(HTTPStatus.FORBIDDEN, b"forbidden host", "text/plain")
            return
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, (STATIC / "index.html").read_bytes(), "text/html; charset=utf-8")
        elif path == "/api/start":
            self._json(HTTPStatus.OK, self.session.start())
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")

    def _body(self) -> dict[str, Any]:
        """The request's JSON object, read within a deadline; RequestError or InputError for anything else."""
        given = self.headers.get("Content-Length")
        text = (given or "0").strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 12:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"Content-Length must be a number of bytes, found {given!r:.40}")
        n = int(text)
        if n > MAX_BODY:
            raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request too large (at most {MAX_BODY} bytes)")
        deadline = time.monotonic() + BODY_SECONDS
        chunks: list[bytes] = []
        size = 0
        while size < n:
            if time.monotonic() > deadline:
                raise RequestError(HTTPStatus.REQUEST_TIMEOUT, "the request body arrived too slowly")
            chunk = self.rfile.read1(min(65536, n - size))
            if not chunk:
                raise RequestError(HTTPStatus.BAD_REQUEST, "the request body ended early")
            chunks.append(chunk)
            size += len(chunk)
        return parse_body(b"".join(chunks))

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        if not self._host_ok() or self.headers.get("X-Entente") != "1":
            self._send(HTTPStatus.FORBIDDEN, b"forbidden", "text/plain")
            return
        if path not in ROUTES:
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
            return
        try:
            data = self._body()
            _REQUEST.gone = self._client_gone
            self._json(HTTPStatus.OK, getattr(self.session, ROUTES[path])(data))
        except ClientGone:
            self.close_connection = True
        except RequestError as exc:
            self._json(exc.status, {"errors": [f"{logic.SOURCE}: {exc}"]})
        except Busy as exc:
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"errors": [f"{logic.SOURCE}: {exc}"]}, {"Retry-After": "2"})
        except InputError as exc:
            self._json(HTTPStatus.OK, {"errors": [str(i) for i in exc.issues]})
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client went away while it was read
        except (RunError, OSError) as exc:
            self._json(HTTPStatus.OK, {"errors": [f"entente: {exc}"]})
        except Exception as exc:  # noqa: BLE001 - the page gets a sentence and the server keeps running
            print(f"entente app: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
            self._json(HTTPStatus.OK, {"errors": [f"internal error: {type(exc).__name__}: {exc}"]})
        finally:
            _REQUEST.gone = None

    def _client_gone(self) -> bool:
        """Whether the client closed its connection (its request was read whole, so readable means closed)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except (OSError, ValueError):
            return True


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number the app accepts")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"a whole number of {len(text.lstrip('-'))} digits is not a value the app accepts")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:20]} is not a finite number")
    return value


def parse_body(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object; every malformed body is an InputError sentence, never an internal error.

    Invalid UTF-8, nesting deeper than Python's recursion limit, a number of thousands of digits,
    NaN and Infinity are all refused here, before any value reaches the session.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError.one(
            logic.SOURCE, f"the request is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    try:
        data = json.loads(
            text or "{}", parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_refuse_constant
        )
    except json.JSONDecodeError as exc:
        raise InputError.one(logic.SOURCE, f"the request was not JSON ({exc.msg} at offset {exc.pos})") from None
    except RecursionError:
        raise InputError.one(logic.SOURCE, "the request is nested too deeply") from None
    except ValueError as exc:
        raise InputError.one(logic.SOURCE, f"the request was refused: {exc}") from None
    if not isinstance(data, dict):
        raise InputError.one(logic.SOURCE, "expected a JSON object")
    return data


def _jsonable(x: Any) -> Any:
    import numpy as np

    if isinstance(x, np.generic):
        v = x.item()
        return None if isinstance(v, float) and not np.isfinite(v) else v
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


class AppServer(HTTPServer):
    """An HTTP server with a fixed pool of threads fed from a bounded queue of accepted connections.

    Why not ``ThreadingHTTPServer``: it starts a thread per connection without limit (1,500 slow
    clients held 1,500 threads) behind a listen backlog of 5 (a burst of 20 requests was reset).
    Here the backlog is real, at most ``pool`` threads ever serve, and a connection that finds the
    queue full gets a one-line 503 at once instead of waiting or being reset.
    """

    request_queue_size = BACKLOG
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[Handler], pool: int = POOL, queued: int = ACCEPTED):
        super().__init__(address, handler)
        self._pending: queue.Queue[tuple[Any, Any] | None] = queue.Queue(maxsize=queued)
        self._threads = [threading.Thread(target=self._work, name=f"entente-app-{i}", daemon=True) for i in range(pool)]
        for t in self._threads:
            t.start()

    def process_request(self, request: Any, client_address: Any) -> None:
        try:
            self._pending.put_nowait((request, client_address))
        except queue.Full:
            self._refuse(request)

    def _refuse(self, request: socket.socket) -> None:
        body = b'{"errors": ["app setting: the app is busy; try again in a moment"]}'
        head = (
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nRetry-After: 2\r\nConnection: close\r\n\r\n"
        ).encode()
        try:
            request.settimeout(1.0)
            request.sendall(head + body)
        except OSError:
            pass
        self.shutdown_request(request)

    def _work(self) -> None:
        while True:
            item = self._pending.get()
            if item is None:
                return
            request, client_address = item
            try:
                self.finish_request(request, client_address)
            except Exception:  # noqa: BLE001 - reported by handle_error; the thread serves on
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up or stays silent is routine; anything else is one line, not a traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        print(f"entente app: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)

    def server_close(self) -> None:
        super().server_close()
        for _ in self._threads:
            try:
                self._pending.put_nowait(None)
            except queue.Full:
                break


def make_server(session: Session, host: str = "127.0.0.1", port: int = 8765, **limits: Any) -> AppServer:
    """A bound server for ``session`` (port 0: any free port). InputError if the port is taken.

    ``limits`` (``pool``, ``queued``, ``read_timeout``, ``max_waiting``) exist for tests.
    """
    attrs: dict[str, Any] = {"session": session}
    if "read_timeout" in limits:
        attrs["timeout"] = limits.pop("read_timeout")
    if "max_waiting" in limits:
        session.queue.max_waiting = limits.pop("max_waiting")
    handler = type("BoundHandler", (Handler,), attrs)
    try:
        server = AppServer((host, port), handler, **limits)
    except OSError as exc:
        raise InputError.one(
            "command line", f"--port {port}: cannot listen on {host}:{port} ({exc.strerror or exc}); try another --port"
        ) from None
    except (OverflowError, ValueError, UnicodeError) as exc:
        raise InputError.one("command line", f"--host {host}: not an address to listen on ({exc})") from None
    return server


def _exposed(host: str) -> bool:
    """Whether binding ``host`` lets other machines reach the app."""
    return host not in LOOPBACK and not host.startswith("127.")


def serve(
    scenario: str,
    host: str = "127.0.0.1",
    port: int = 8765,
    folder: Path | None = None,
    replicates: int = logic.DEFAULT_REPLICATES,
) -> int:
    """Start the app, print its address, serve until Ctrl-C (then stop cleanly, exit 0)."""
    folder = Path(folder or Path.cwd())
    logic.controls(scenario)  # a bad scenario is refused before the server starts (exit 2, located)
    logic.State.from_json({"scenario": scenario, "replicates": replicates})  # and a bad --replicates
    session = Session(scenario, folder, folder / "runs", replicates)
    server = make_server(session, host, port)
    if _exposed(host):
        print(
            f"entente app: warning: --host {host} makes the app reachable from other machines; it has no login,"
            f" and whoever reaches it can run simulations and write files under {folder}",
            file=sys.stderr,
            flush=True,
        )
    url = f"http://{host}:{server.server_address[1]}/"
    print(f"entente app: {url}  (Ctrl-C stops it)", flush=True)

    def _terminate(signum: int, frame: Any) -> None:
        raise _Stop(128 + signum)

    # a shell that starts the app in the background ignores SIGINT for it: take Ctrl-C back, and stop
    # on SIGTERM the same clean way (exit 143, like `entente run`)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    code = 0
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("\nentente app: stopped", file=sys.stderr)
    except _Stop as stop:
        code = stop.code
        print("\nentente app: stopped (SIGTERM)", file=sys.stderr)
    finally:
        server.server_close()
    return code


class _Stop(Exception):
    """SIGTERM: leave serve_forever through its cleanup."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code
