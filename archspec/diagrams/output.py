"""Writing diagrams: the format from the file extension, images via Graphviz's ``dot``."""
from __future__ import annotations

import sys
from pathlib import Path

from ..diagnostics import ArchspecError

FORMATS = ("svg", "png", "pdf", "dot")
SUFFIXES = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
INSTALL = ("install Graphviz: 'sudo apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' "
           "(macOS) or 'conda install -c conda-forge graphviz'; or write DOT text with -o FILE.dot")


class GraphvizMissing(ArchspecError):
    """Graphviz's ``dot`` program is not on PATH (DOT text still works)."""


class RenderFailed(Exception):
    """``dot`` ran and refused the graph (a bug in the drawer: its stderr says why)."""


def _missing(fmt: str) -> GraphvizMissing:
    return GraphvizMissing(f"writing {fmt.upper()} needs Graphviz's 'dot' program, which is not on PATH: {INSTALL}")


def format_for(path: str, override: str | None = None) -> str | None:
    """'a.png' -> 'png'; an explicit --format wins; None when the extension says nothing."""
    if override:
        return override
    return SUFFIXES.get(Path(path).suffix.lower())


def image(graph, fmt: str, timeout: float | None = None) -> bytes:
    """The diagram as bytes in ``fmt``: DOT text needs nothing, other formats run ``dot`` (``timeout``: at most
    that many seconds, else RenderFailed; ``archspec serve`` draws untrusted text)."""
    import graphviz  # graphviz only to draw: this module loads with every CLI command (render's --format)

    if fmt == "dot":
        return graph.source.encode("utf-8")
    if timeout is not None:
        return _dot(graph.source, fmt, timeout)
    try:
        return graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise _missing(fmt) from None
    except graphviz.CalledProcessError as exc:
        err = (exc.stderr or b"").decode("utf-8", "replace").strip()
        raise RenderFailed(f"dot -T{fmt} failed: {err}") from None


def _dot(source: str, fmt: str, timeout: float) -> bytes:
    """``dot -Tfmt`` on DOT text, stopped after ``timeout`` seconds."""
    import subprocess  # start-up: subprocess (about 5 ms) only to run dot; this module loads with every CLI command

    try:
        done = subprocess.run(["dot", f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, timeout=timeout)
    except FileNotFoundError:
        raise _missing(fmt) from None
    except subprocess.TimeoutExpired:
        raise RenderFailed(f"dot -T{fmt} took longer than {timeout:g} s and was stopped") from None
    if done.returncode:
        raise RenderFailed(f"dot -T{fmt} failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


def write(graph, target: str, fmt: str) -> None:
    """Write the diagram to ``target`` ('-' = stdout, DOT or image bytes)."""
    data = image(graph, fmt)
    if target == "-":
        sys.stdout.write(data.decode("utf-8")) if fmt in ("dot", "svg") else sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    Path(target).write_bytes(data)
