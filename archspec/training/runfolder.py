"""The run folder: where a training run keeps its spec, history, reports, weights and checkpoint.

Files are written atomically (temporary file, fsync, rename), so a run killed
at any moment leaves the previous complete version of each file. Weights are
safetensors with a JSON metadata entry; nothing here ever unpickles.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import time
from pathlib import Path

from safetensors import SafetensorError, safe_open
from safetensors.torch import load, save

from ..diagnostics import ArchspecError
from .digest import sealed, verify

FILES = {
    "spec": "spec.yaml",  # the resolved spec (overrides applied, defaults filled in)
    "history": "history.csv",
    "metrics": "metrics.json",
    "curves": "curves.png",
    "confusion": "confusion_matrix.png",
    "report": "classification_report.txt",
    "weights": "model.safetensors",
    "checkpoint": "checkpoint.safetensors",
}
HISTORY_COLUMNS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds",
                   "images_per_second")
META_KEY = "archspec"  # safetensors metadata key holding our JSON


class RunFolder:
    def __init__(self, path, made=()):
        self.path = Path(path)
        self.made = [Path(p) for p in made]  # the folders ``create`` made for it, deepest first (``discard``)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def __getitem__(self, what: str) -> Path:
        return self.path / FILES[what]

    @classmethod
    def create(cls, title: str, out=None, root="runs") -> "RunFolder":
        """``out`` as given, else runs/<spec name>/<timestamp> (a suffix keeps runs in one second apart)."""
        if out is None:
            safe = re.sub(r"[^A-Za-z0-9._-]+", "-", title).strip(".-") or "run"  # a name, never a path
            base = Path(root) / safe / time.strftime("%Y%m%d-%H%M%S")
            out, n = base, 1
            while out.exists():
                n += 1
                out = base.with_name(f"{base.name}-{n}")
        path = Path(out)
        made = [p for p in (path, *path.parents) if not p.exists()]
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            blocker = next((p for p in (path, *path.parents) if p.is_file()), None)  # a file where a folder goes
            raise FolderError(f"cannot create the folder {path}: "
                              + (f"{blocker} is a file" if blocker else exc.strerror or str(exc))) from None
        return cls(path, made)

    def discard(self) -> bool:
        """Remove a folder ``create`` made when the run left nothing to resume in it (it failed before its first
        checkpoint): its spec.yaml and history.csv, then each folder made for it if empty. Any other file keeps
        the folder; a folder that existed before is never removed."""
        if not self.made or self["checkpoint"].exists():
            return False
        self.clean_temp()
        ours = {FILES["spec"], FILES["history"]}
        if any(p.name not in ours for p in self.path.iterdir()):
            return False
        for name in ours:
            (self.path / name).unlink(missing_ok=True)
        for folder in self.made:
            try:
                folder.rmdir()
            except OSError:  # not empty (another run's folder beside it), or gone
                break
        return True

    def clean_temp(self) -> list[Path]:
        """Remove the temporary files a killed writer left (``.checkpoint.safetensors.tmp-PID``): they are never
        read, and on a full disk they hold the space a resume needs."""
        stale = [p for name in FILES.values() for p in self.path.glob(f".{name}.tmp-*")]
        for p in stale:
            p.unlink(missing_ok=True)
        return stale

    def write(self, what: str, data: bytes | str) -> Path:
        try:
            atomic_write(self[what], data.encode() if isinstance(data, str) else data)
        except OSError as exc:  # e.g. a folder where the file goes, or a full disk
            raise FolderError(f"cannot write {self[what]}: {exc.strerror or exc}") from None
        return self[what]

    def write_history(self, history: list[dict]) -> Path:
        buf = io.StringIO()
        w = csv.DictWriter(buf, HISTORY_COLUMNS, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in history)
        return self.write("history", buf.getvalue())

    def write_json(self, what: str, doc: dict) -> Path:
        return self.write(what, json.dumps(doc, indent=2) + "\n")


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync it, rename over ``path``, fsync the folder."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:  # a full disk, Ctrl-C: no half-written temporary file holds the space
        tmp.unlink(missing_ok=True)
        raise
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def save_tensors(path: Path, tensors: dict, meta: dict) -> None:
    """tensors + JSON metadata -> one safetensors file, atomically."""
    data = sealed(save, {k: v.detach().cpu().contiguous() for k, v in tensors.items()}, {META_KEY: json.dumps(meta)})
    try:
        atomic_write(path, data)
    except OSError as exc:  # a full disk, a folder where the file goes
        raise FolderError(f"cannot write {path}: {exc.strerror or exc}") from None


class WeightsError(ArchspecError):
    """A weights or checkpoint file that cannot be read (message says why)."""


class FolderError(ArchspecError):
    """A run or report folder cannot be created (message says why)."""


def parse_tensors(data: bytes, name: str = "checkpoint") -> tuple[dict, dict]:
    """(tensors, metadata JSON) from the bytes of a safetensors file (e.g. a checkpoint rank 0 read)."""
    try:
        tensors = load(data)
        head = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
        meta = json.loads((head.get("__metadata__") or {}).get(META_KEY, "{}"))
    except (SafetensorError, ValueError, OSError) as exc:
        raise WeightsError(f"{name} is not a readable safetensors file ({exc})") from None
    verify(data, head.get("__metadata__"), name, WeightsError)
    return tensors, _object(meta, name)


def _object(meta, name) -> dict:
    """The archspec metadata, which must be a JSON object."""
    if not isinstance(meta, dict):
        raise WeightsError(f"{name} holds archspec metadata that is not a JSON object (a {type(meta).__name__})")
    return meta


def load_tensors(path, tensors: bool = True) -> tuple[dict, dict]:
    """(tensors, metadata JSON) from a safetensors file; safetensors has no code to run (no pickle).
    ``tensors=False`` reads the header only (no tensors: {})."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"no such file: {path}")
    try:
        with safe_open(str(path), framework="pt") as fh:
            found = {k: fh.get_tensor(k) for k in fh.keys()} if tensors else {}
            head = fh.metadata() or {}
            meta = json.loads(head.get(META_KEY, "{}"))
        if tensors:
            verify(path.read_bytes(), head, str(path), WeightsError)
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path} is not a readable safetensors file ({exc})") from None
    return found, _object(meta, path)
