"""The HTTP side of ``archspec serve``: one page, its static files and a small JSON API, with guards.

Routes: ``GET /`` (the page), ``GET /static/NAME`` (only the files shipped in ``static/``),
``GET /api/documents``, ``POST /api/check`` ``{"text", "grads"?, "layout"?}``, ``POST /api/open``
``{"name"}``, ``POST /api/save`` ``{"name", "text", "version"}``, ``POST /api/solution`` ``{"text", "name"?}``.
Guards: a Host header other than this server's address is 403 (DNS rebinding), so is a foreign Origin;
a body over 1 MB is 413, one that is not ``application/json`` 415, malformed JSON 400; errors are JSON.
"""
from __future__ import annotations

import ipaddress
import json
import socket
import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import urlsplit

from . import api
from .documents import DocumentError, Workspace

MAX_BODY = 1 << 20  # 1 MB, the loader's own limit on a spec
DRAIN = 16 << 20  # read at most this much of a refused body (so the client sees the answer), then hang up
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
WILDCARDS = ("0.0.0.0", "::", "")  # bind addresses that mean every interface
ALIASES = {"/": "index.html", "/favicon.ico": "favicon.svg"}  # paths outside /static/ that serve a static file
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class HttpError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def static_files() -> dict[str, bytes]:
    """name -> bytes of every file shipped in archspec/serve/static (the only files ever served)."""
    folder = resources.files("archspec.serve") / "static"
    return {f.name: f.read_bytes() for f in folder.iterdir() if f.is_file() and f.name.endswith(tuple(TYPES))}


def _suffix(name: str) -> str:
    return name[name.rfind("."):] if "." in name else ""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the page's fetch per edit reuses one connection
    timeout = 60  # seconds a connection may stall (a body announced and not sent) before it is dropped
    disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms delayed-ACK stall per answer)
    server_version = "archspec-serve"
    sys_version = ""

    def log_message(self, format, *args):  # quiet: the terminal shows the URL and problems only
        pass

    # -- guards ---------------------------------------------------------------------------------------------

    def _host_ok(self) -> bool:
        host = self.headers.get("Host", "")
        name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
        if port != str(self.server.server_port):
            return False
        name = name.strip("[]").lower()
        return name in self.server.names or _is_ip(name)

    def _origin_ok(self) -> bool:
        origin = self.headers.get("Origin")
        if origin is None:
            return True
        parts = urlsplit(origin)
        return parts.scheme == "http" and parts.netloc.lower() == self.headers.get("Host", "").lower()

    def _guard(self) -> None:
        if not self._host_ok():
            raise HttpError(403, "this server answers only to its own address (Host header "
                                 f"{self.headers.get('Host')!r} refused)")
        if self.command == "POST" and not self._origin_ok():
            raise HttpError(403, f"requests from {self.headers.get('Origin')} are refused")

    def _body(self) -> dict:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise HttpError(411, "send the body with a Content-Length")
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise HttpError(400, "bad Content-Length")
        if length > MAX_BODY:
            self._drain(length)
            raise HttpError(413, f"the request body is {length:,} bytes; the limit is {MAX_BODY:,}")
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        raw = self.rfile.read(length)
        if ctype != "application/json":
            raise HttpError(415, "send JSON (Content-Type: application/json)")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise HttpError(400, f"malformed JSON: {exc}") from None
        if not isinstance(body, dict):
            raise HttpError(400, "send a JSON object")
        return body

    def _drain(self, length: int) -> None:
        """Read a refused body (up to DRAIN) so the client gets the 413 instead of a reset; then hang up."""
        self.close_connection = True
        left = min(length, DRAIN)
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                break
            left -= len(chunk)

    # -- answers --------------------------------------------------------------------------------------------

    def _send(self, status: int, data: bytes, ctype: str) -> None:
        self.send_response(status)
        headers = {"Content-Type": ctype, "Content-Length": str(len(data)), "Cache-Control": "no-store",
                   "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                   "Content-Security-Policy": CSP}
        if self.close_connection:
            headers["Connection"] = "close"
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _json(self, status: int, doc: dict) -> None:
        self._send(status, json.dumps(doc).encode("utf-8"), "application/json")

    def _handle(self, route) -> None:
        try:
            self._guard()
            route()
        except (HttpError, DocumentError) as exc:
            self._json(exc.status, {"error": str(exc)})
        except (ConnectionError, TimeoutError):  # the page gave up (a newer edit aborted its fetch), or stalled
            self.close_connection = True
        except Exception as exc:  # a bug: say so in JSON and log it, never a dropped connection
            traceback.print_exc(file=sys.stderr)
            self._json(500, {"error": f"internal error ({type(exc).__name__}): {exc}"})

    def do_GET(self):
        self._handle(self._get)

    def do_HEAD(self):
        self._handle(self._get)

    def do_POST(self):
        self._handle(self._post)

    def _get(self) -> None:
        path = urlsplit(self.path).path
        name = ALIASES.get(path, path[len("/static/"):] if path.startswith("/static/") else None)
        if path == "/api/documents":
            return self._json(200, self.server.workspace.listing())
        files = self.server.static
        if name not in files:
            raise HttpError(404, f"not found: {path}")
        self._send(200, files[name], TYPES[_suffix(name)])

    def _post(self) -> None:
        path = urlsplit(self.path).path
        route = POST_ROUTES.get(path)
        if route is None:
            raise HttpError(404, f"not found: {path}")
        body = self._body()
        self._json(200, route(self.server.workspace, body))


def _text(body: dict) -> str:
    text = body.get("text")
    if not isinstance(text, str):
        raise HttpError(400, "'text' must be a string (the spec's YAML)")
    return text


def _file(ws: Workspace, body: dict) -> str:
    """The path a request's text resolves relative files against: its document's, or none."""
    return ws.file(body["name"]) if body.get("name") is not None else "<spec>"


POST_ROUTES = {
    "/api/check": lambda ws, b: api.check(_text(b), _file(ws, b), grads=b.get("grads") is True,
                                           layout=b.get("layout")),
    "/api/solution": lambda ws, b: api.solution(_text(b), _file(ws, b)),
    "/api/open": lambda ws, b: ws.open(b.get("name")),
    "/api/save": lambda ws, b: ws.save(b.get("name"), _text(b), b.get("version")),
}


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, workspace: Workspace, host: str = "127.0.0.1", port: int = 0):
        if ":" in host:  # an IPv6 address such as ::1
            self.address_family = socket.AF_INET6
        super().__init__((host, port), Handler)
        self.workspace = workspace
        self.static = static_files()
        self.names = {"localhost", host.lower()}
        if host in WILDCARDS:  # reachable by this machine's own names too
            self.names |= {socket.gethostname().lower(), socket.getfqdn().lower()}

    @property
    def url(self) -> str:
        host = self.server_address[0]
        host = "127.0.0.1" if host in WILDCARDS else host  # a wildcard bind: the address to open here
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.server_port}/"
