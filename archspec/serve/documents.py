"""The specs ``archspec serve`` may open and save: one file, a folder of specs, or the built-in examples.

A document is named by the server, never by a path from the browser: the page picks a name from the list
and only the files in that list are read or written. Saving writes atomically, and only when the file is
unchanged on disk since it was opened (its version is the SHA-256 of its bytes).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import ArchspecError
from ..validation import spec_files

REPO = Path(__file__).resolve().parents[2]
BUILT_IN = ("specs/seed", "specs/examples")  # the menu when no SPEC is given (a source checkout has them)
START = "specs/seed/q6-design.yaml"
FALLBACK = """kind: cnn
name: example
input: [32, 32, 3]
layers:
  - {type: conv2d, out_channels: 16, kernel_size: 3, padding: 1}
  - {type: relu}
  - {type: maxpool2d, kernel_size: 2}
  - {type: flatten}
  - {type: linear, out_features: 10}
"""


class DocumentError(ArchspecError):
    """A document that cannot be opened or saved; ``status`` is the HTTP status that says so."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Document:
    name: str  # shown in the menu and sent back by the page
    path: Path | None  # None: the fallback example, which lives only in memory
    writable: bool


def version(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Workspace:
    """The documents of one server and the lock that makes check-then-write of a save atomic."""

    def __init__(self, target: str | os.PathLike | None = None):
        self._lock = threading.Lock()
        if target is None:
            found = [(f"{folder}/{p.name}", p) for folder in BUILT_IN for p in spec_files([REPO / folder])]
            docs = [Document(name, p, False) for name, p in found] or [Document("example.yaml", None, False)]
            start = START if any(d.name == START for d in docs) else docs[0].name
        else:
            root = Path(target)
            if root.is_dir():
                docs = [Document(p.relative_to(root).as_posix(), p, True) for p in spec_files([root])]
                if not docs:
                    raise DocumentError(f"{root}: no .yaml files found")
            elif root.is_file():
                docs = [Document(root.name, root, True)]
            else:
                raise DocumentError(f"no such file or folder: {root}")
            start = docs[0].name
        self.documents = {d.name: d for d in docs}
        self.start = start
        self.target = None if target is None else str(target)

    def listing(self) -> dict:
        return {"documents": [{"name": d.name, "writable": d.writable} for d in self.documents.values()],
                "start": self.start, "target": self.target}

    def _get(self, name) -> Document:
        doc = self.documents.get(name) if isinstance(name, str) else None
        if doc is None:
            raise DocumentError(f"no document named {name!r} on this server", 404)
        return doc

    def file(self, name) -> str:
        """The path diagnostics and relative rule files resolve against."""
        doc = self._get(name)
        return str(doc.path) if doc.path is not None else "<spec>"

    def open(self, name) -> dict:
        doc = self._get(name)
        if doc.path is None:
            data = FALLBACK.encode("utf-8")
        else:
            try:
                data = doc.path.read_bytes()
            except OSError as exc:
                raise DocumentError(f"cannot read {doc.path}: {exc.strerror}", 500) from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise DocumentError(f"{doc.path} is not UTF-8 text", 422) from None
        return {"name": doc.name, "text": text, "version": version(data), "writable": doc.writable}

    def save(self, name, text, opened: str) -> dict:
        """Write ``text`` to the document if its file still has version ``opened``; the new version."""
        doc = self._get(name)
        if not doc.writable:
            raise DocumentError(f"{doc.name} is a built-in example and cannot be saved: download it instead", 403)
        if not isinstance(text, str) or not isinstance(opened, str):
            raise DocumentError("save needs 'text' and 'version' strings")
        data = text.encode("utf-8")
        with self._lock:
            try:
                current = version(doc.path.read_bytes())
            except FileNotFoundError:
                raise DocumentError(f"{doc.path} was removed since it was opened; not saved", 409) from None
            except OSError as exc:
                raise DocumentError(f"cannot read {doc.path}: {exc.strerror}", 500) from None
            if current != opened:
                raise DocumentError(f"{doc.path} was changed on disk since it was opened; not saved. Reload it "
                                    "to see the other change (copy your text first), or save it elsewhere", 409)
            _write_atomic(doc.path, data)
        return {"name": doc.name, "version": version(data)}


def _write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` in one rename (a crash leaves the old or the new file, never half of one)."""
    path = path.resolve()  # a linked spec: write the file it points to, keep the link
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise DocumentError(f"cannot write {path}: {exc.strerror}", 500) from None
