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
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from model.app import logic
from model.errors import InputError, RunError

STATIC = Path(__file__).parent / "static"
MAX_BODY = 1_000_000


class Session:
    """What the page shows, computed on request; one lock, because one analyst drives it."""

    def __init__(self, scenario: str, folder: Path, runs: Path, replicates: int = logic.DEFAULT_REPLICATES) -> None:
        self.scenario = logic.resolve_scenario(scenario)
        self.replicates = replicates  # the page's initial ensemble size
        self.folder = Path(folder)  # where Save writes
        self.runs = Path(runs)  # where Run writes run folders
        self.lock = threading.Lock()
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
        t0 = time.perf_counter()
        state = self._state(data)
        with self.lock:
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
        return out

    def pin(self, data: dict[str, Any]) -> dict[str, Any]:
        """Pin the page's current setting as the reference for paired differences."""
        state = self._state(data)
        with self.lock:
            sc, _doc, res = self._ensemble(state)
            changed = ", ".join(f"{k}={v}" for k, v in state.settings().items()) or "as in the file"
            self.reference = {"scenario": sc, "result": res, "label": f"{sc.name} ({changed})"}
        return {"pinned": self.reference["label"]}

    def unpin(self, _data: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.reference = None
        return {"pinned": None}

    def replicate(self, data: dict[str, Any]) -> dict[str, Any]:
        """One replicate's narrative and decisions: picked worst/median/best by an outcome, or by number."""
        state = self._state(data.get("state"))
        how = data.get("pick", "median")
        if isinstance(how, str) and how.strip().isdigit():
            how = int(how.strip())
        with self.lock:
            sc, _doc, res = self._ensemble(state)
            rep = logic.pick(res, how, str(data.get("by") or logic.pick_default(sc)))
            return logic.replicate_story(sc, res, rep)

    def save(self, data: dict[str, Any]) -> dict[str, Any]:
        """Write the current setting as a scenario file (validated by reading it back as `entente validate` does)."""
        from model.files import write_text
        from model.scenario import validate

        state = self._state(data.get("state"))
        name = logic.safe_name(str(data.get("name") or ""))
        with self.lock:
            _sc, doc, _res = self._ensemble(state)
            text = logic.scenario_yaml(doc, state, name)
            path = logic.save_path(self.folder, name)
            if path.exists() and not path.read_text(encoding="utf-8", errors="replace").startswith(logic.SAVED_HEADER):
                raise InputError.one(
                    str(path), "exists and was not written by the app; choose another name (it is left as it is)", 1, 1
                )
            write_text(path, text)
        issues = validate(path)
        return {"path": str(path), "yaml": text, "valid": not issues, "errors": [str(i) for i in issues]}

    def run(self, data: dict[str, Any]) -> dict[str, Any]:
        """Write a normal run folder of the current setting, with the code `entente run` uses."""
        from model import workflow
        from model.execution import RunOptions

        state = self._state(data.get("state"))
        with self.lock:
            sc, _doc, _res = self._ensemble(state)
        t0 = time.perf_counter()
        folder = workflow.run_scenario(
            sc, self.runs, RunOptions(workers=1, quiet=True), ["entente", "app", state.scenario]
        )
        return {
            "folder": str(folder),
            "summary": str(folder / "summary.md"),
            "seconds": round(time.perf_counter() - t0, 1),
        }


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


class Handler(BaseHTTPRequestHandler):
    """Static page and JSON API; errors go back as {"errors": [...]}, never as a traceback."""

    session: Session
    server_version = "entente-app"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        return  # quiet: the terminal shows the address and errors only

    def _host_ok(self) -> bool:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
        return host in ("127.0.0.1", "localhost", "::1", self.server.server_address[0])

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj, allow_nan=False, default=_jsonable).encode(), "application/json")

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

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        if not self._host_ok() or self.headers.get("X-Entente") != "1":
            self._send(HTTPStatus.FORBIDDEN, b"forbidden", "text/plain")
            return
        if path not in ROUTES:
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
            return
        try:
            n = int(self.headers.get("Content-Length") or 0)
            if not 0 <= n <= MAX_BODY:
                raise InputError.one(logic.SOURCE, "request too large")
            data = json.loads(self.rfile.read(n) or b"{}")
            if not isinstance(data, dict):
                raise InputError.one(logic.SOURCE, "expected a JSON object")
            self._json(HTTPStatus.OK, getattr(self.session, ROUTES[path])(data))
        except InputError as exc:
            self._json(HTTPStatus.OK, {"errors": [str(i) for i in exc.issues]})
        except (RunError, OSError) as exc:
            self._json(HTTPStatus.OK, {"errors": [f"entente: {exc}"]})
        except json.JSONDecodeError:
            self._json(HTTPStatus.OK, {"errors": ["app setting: the request was not JSON"]})
        except Exception as exc:  # noqa: BLE001 - the page gets a sentence and the server keeps running
            print(f"entente app: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
            self._json(HTTPStatus.OK, {"errors": [f"internal error: {type(exc).__name__}: {exc}"]})


def _jsonable(x: Any) -> Any:
    import numpy as np

    if isinstance(x, np.generic):
        v = x.item()
        return None if isinstance(v, float) and not np.isfinite(v) else v
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


def make_server(session: Session, host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    """A bound server for ``session`` (port 0: any free port). InputError if the port is taken."""
    handler = type("BoundHandler", (Handler,), {"session": session})
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise InputError.one(
            "command line", f"--port {port}: cannot listen on {host}:{port} ({exc.strerror or exc}); try another --port"
        ) from None
    server.daemon_threads = True
    return server


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
