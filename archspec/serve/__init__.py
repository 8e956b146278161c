"""``archspec serve``: a local page where diagnostics, shapes and the diagram update as you type.

``api`` computes the answers from the library, ``documents`` opens and saves the specs the server was
given, ``server`` is the HTTP side (standard library only) and ``static/`` the page, whose editor bundle
is built from ``frontend/`` (CodeMirror 6, esbuild) and shipped here so nothing is fetched at run time.
"""
from __future__ import annotations

from .documents import Workspace
from .server import Server


def make_server(target=None, host: str = "127.0.0.1", port: int = 0):
    """A ready (not yet serving) server for a spec file, a folder of specs or (None) the built-in examples;
    ``port=0`` picks a free port (``.url`` says which). Call ``serve_forever()`` on it, in a thread if need be."""
    return Server(Workspace(target), host, port)
