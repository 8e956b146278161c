"""A real ``archspec serve`` server on a free port of 127.0.0.1, in a thread, for the serve tests."""
from __future__ import annotations

import http.client
import json
import threading
from contextlib import contextmanager


@contextmanager
def running(target=None):
    """The started server (``.url``, ``.server_port``) for a spec file, folder or None; shut down after."""
    from archspec.serve import make_server

    srv = make_server(target, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def request(srv, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """(status, headers, bytes) of one raw request: the path and headers go out exactly as given."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.server_port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        sent = {"Host": f"127.0.0.1:{srv.server_port}", **(headers or {})}
        if body is not None:
            sent.setdefault("Content-Length", str(len(body)))
        for k, v in sent.items():
            if v is not None:
                conn.putheader(k, v)
        conn.endheaders(body)
        res = conn.getresponse()
        return res.status, dict(res.getheaders()), res.read()
    finally:
        conn.close()


def post(srv, path: str, doc, headers: dict | None = None):
    """(status, JSON answer) of a JSON POST."""
    status, _, data = request(srv, "POST", path, json.dumps(doc).encode("utf-8"),
                              {"Content-Type": "application/json", **(headers or {})})
    return status, json.loads(data)
