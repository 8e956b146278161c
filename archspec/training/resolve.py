"""Spec file + command-line overrides (--set, --data, --epochs) -> one validated spec to train.

Overrides are applied to the YAML data before validation, so a bad value from
the command line gets the same checks (and a message naming the flag) as one
written in the file. Errors about the file keep their file:line:col.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..diagnostics import ArchspecError, Diagnostic, SpecError, did_you_mean
from ..kinds import fact
from ..loader import Document, load_file, load_text
from ..validation import parse_document
from ..train_config import CHECKED_WITH, ImageFolder, Optimizer, TrainConfig

SHARED_DATASET_KEYS = ("val_fraction", "test_fraction", "normalize", "augment")


class OverrideError(ArchspecError):
    """A command-line override is invalid (message lines name the flag)."""


@dataclass
class Resolved:
    spec: object  # a validated CnnSpec
    doc: Document
    overrides: dict = field(default_factory=dict)  # spec path -> flag text, e.g. ('train', 'epochs') -> '--epochs 3'

    @property
    def train(self) -> TrainConfig:
        return self.spec.train or TrainConfig()

    @property
    def base(self) -> Path:
        """Folder that relative dataset paths in the spec are relative to."""
        return Path(self.doc.file).resolve().parent

    def error(self, code: str, message: str, path: tuple, hint: str | None = None) -> Exception:
        """A located SpecError, or an OverrideError when ``path`` came from the command line."""
        flag = self._flag(path)
        if flag:
            return OverrideError(_flag_text(flag, code, message, hint))
        return SpecError([self.doc.source.place(Diagnostic(code, message, path, hint=hint))], self.doc.file)

    def _flag(self, path: tuple) -> str | None:
        """The flag that set ``path``, a value inside it, (for checks of a whole block) a value below it, or a
        sibling the check at ``path`` reads (``CHECKED_WITH``: val_fraction for test_fraction's sum)."""
        path = tuple(path)
        paths = [path] + [path[:-1] + (k,) for k in CHECKED_WITH.get(path[-1], ())] if path else []
        return next((f for path in paths for p, f in self.overrides.items()
                     if path == p or (len(path) > 1 and (path[:len(p)] == p or p[:len(path)] == path))), None)

    def resolved(self) -> dict:
        """The spec with every default filled in and the dataset path made absolute (saved with the run)."""
        doc = self.spec.model_dump(mode="json", by_alias=True, exclude={"blocks"})  # blocks: already expanded
        doc["train"] = self.train.model_dump(mode="json")
        ds = doc["train"]["dataset"]
        if ds.get("path"):
            ds["path"] = str((self.base / ds["path"]).resolve())
        return doc

    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.resolved(), sort_keys=True).encode()).hexdigest()


def _flag_text(flag: str, code: str, message: str, hint: str | None) -> str:
    return f"{flag}: error[{code}]: {message}" + (f"\n    hint: {hint}" if hint else "")


# where a --set key without its path is looked for, in this order
SHORT_FORMS = ((("train",), TrainConfig), (("train", "optimizer"), Optimizer), (("train", "dataset"), ImageFolder))


def _unknown_short_form(d: Diagnostic) -> bool:
    return d.code == "unknown-key" and len(d.path) == 1


def _message(d: Diagnostic) -> str:
    """An unknown top-level key from --set: neither a spec key nor a short form (not 'in <document>')."""
    if _unknown_short_form(d):
        return f"unknown key '{d.path[0]}': not a top-level spec key, nor a short form of a train key"
    return d.message


def _hint(d: Diagnostic) -> str | None:
    """An unknown top-level key from --set is most likely a misspelt short form (lrr for lr): say which."""
    if _unknown_short_form(d) and not (d.hint or "").startswith("did you mean"):
        return did_you_mean(d.path[0], [f for _, model in SHORT_FORMS for f in model.model_fields]) or d.hint
    return d.hint


def _key_path(key: str, data: dict) -> tuple:
    """'train.optimizer.lr' -> ('train', 'optimizer', 'lr'); short forms 'epochs' -> ('train', 'epochs'),
    'lr' -> ('train', 'optimizer', 'lr') and 'val_fraction' -> ('train', 'dataset', 'val_fraction'); digits
    are list indices ('layers.0.out_channels')."""
    parts = tuple(int(p) if p.isdigit() else p for p in key.split("."))
    if parts and parts[0] not in data:
        for prefix, model in SHORT_FORMS:
            if parts[0] in model.model_fields:
                return prefix + parts
    return parts


def _assign(data, path: tuple, value, flag: str) -> None:
    cur = data
    for i, part in enumerate(path[:-1]):
        nxt = cur[part] if (isinstance(cur, dict) and part in cur) or \
            (isinstance(cur, list) and isinstance(part, int) and part < len(cur)) else None
        if nxt is None:
            if isinstance(cur, list):
                raise OverrideError(f"{flag}: {'.'.join(map(str, path[:i + 1]))} is past the end of the list "
                                    f"({len(cur)} entries)")
            cur[part] = nxt = {}
        if not isinstance(nxt, (dict, list)):
            raise OverrideError(f"{flag}: {'.'.join(map(str, path[:i + 1]))} is a value, not a mapping")
        cur = nxt
    if isinstance(cur, list) and not (isinstance(path[-1], int) and path[-1] < len(cur)):
        raise OverrideError(f"{flag}: no entry {path[-1]} in {'.'.join(map(str, path[:-1]))}")
    cur[path[-1]] = value


def parse_set(item: str) -> tuple[str, object]:
    """'train.optimizer.lr=0.01' -> ('train.optimizer.lr', 0.01), values read as YAML (1e-3, true, [3, 3])."""
    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise OverrideError(f"--set {item}: expected KEY=VALUE, e.g. --set train.optimizer.lr=0.01")
    try:
        value = load_text(f"value: {text}").data["value"]
    except SpecError as exc:
        raise OverrideError(f"--set {item}: the value is not valid YAML ({exc.diagnostics[0].message})") from None
    return key.strip(), value


def apply_overrides(data: dict, data_dir=None, epochs=None, sets=(), runtime=None) -> dict:
    """Change ``data`` in place; returns spec path -> flag text for error messages. ``runtime``: train keys
    set by their own flags, e.g. {"device": "cuda"} from --device cuda."""
    flags = {}
    for item in sets:
        key, value = parse_set(item)
        path = _key_path(key, data)
        _assign(data, path, value, f"--set {item}")
        flags[path] = f"--set {item}"
    for key, value in {"epochs": epochs, **(runtime or {})}.items():
        if value is not None:
            _assign(data, ("train", key), value, f"--{key} {value}")
            flags[("train", key)] = f"--{key} {value}"
    if data_dir is not None:
        train = data.setdefault("train", {})
        old = train.get("dataset") if isinstance(train, dict) and isinstance(train.get("dataset"), dict) else {}
        if old.get("type") == "image_folder":
            new = {**old, "path": os.path.abspath(data_dir)}
        else:
            new = {"type": "image_folder", "path": os.path.abspath(data_dir),
                   **{k: old[k] for k in SHARED_DATASET_KEYS if k in old}}
        train["dataset"] = new
        flags[("train", "dataset", "path")] = f"--data {data_dir}"
    return flags


def resolve(path, data_dir=None, epochs=None, sets=(), runtime=None) -> Resolved:
    """Load ``path``, apply the overrides, validate; raises SpecError or OverrideError."""
    doc = load_file(path)
    data = copy.deepcopy(doc.data)
    given = {k: v for k, v in (runtime or {}).items() if v is not None}
    if given and isinstance(data, dict) and fact(data.get("kind"), "trains") == "rows":
        key, value = next(iter(given.items()))
        raise OverrideError(f"--{key} {value}: equation networks train in one process on the CPU (float64, a "
                            "handful of parameters); --device and --precision are for cnn specs")
    flags = apply_overrides(data, data_dir, epochs, sets, runtime)
    doc = Document(data, doc.source, doc.file, doc.text)
    spec, diags = parse_document(doc)
    errors = [d for d in diags if d.severity == "error"]
    if errors:
        r = Resolved(spec, doc, flags)
        if any(r._flag(d.path) for d in errors):  # name the flag instead of the file's line
            raise OverrideError("\n".join(_flag_text(r._flag(d.path), d.code, _message(d), _hint(d)) if r._flag(d.path)
                                          else d.format(doc.file) for d in errors))
        raise SpecError(errors, doc.file)
    trains, needs = fact(spec.kind, "trains"), fact(spec.kind, "train_needs")
    if trains is None or (needs and spec.train is None):
        raise SpecError([doc.source.place(Diagnostic(
            "not-trainable", f"archspec train trains image classifiers (kind: cnn) and equation networks with a "
            f"train: block; this spec is kind '{spec.kind}'" + (" without one" if trains else ""),
            ("kind",), hint=needs or "see `archspec explain` for what this spec computes"))],
            doc.file)
    return Resolved(spec, doc, flags)


def differences(old, new, path: str = "") -> list[str]:
    """'train.optimizer.lr: 0.001 -> 0.01' for every value that differs between two resolved specs."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new), key=str):
            out += differences(old.get(k), new.get(k), f"{path}.{k}" if path else str(k))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in differences(a, b, f"{path}[{i}]")]
    return [] if old == new else [f"{path}: {json.dumps(old)} -> {json.dumps(new)}"]
