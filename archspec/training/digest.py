"""A sha256 digest of a safetensors file's tensor bytes, stored in its own metadata and checked on every load.

safetensors checks the header (names, shapes, offsets) but not the numbers: 1,000 overwritten bytes of a
weights file load fine and evaluate to nonsense. Weights and checkpoints carry ``archspec.sha256``, the
digest of everything after the header; a file whose bytes no longer match is refused, naming the file.
Files written before digests were stored still load, with a note (a ``WeightsNote`` warning) saying so.
"""
from __future__ import annotations

import hashlib
import warnings

DIGEST_KEY = "archspec.sha256"


class WeightsNote(UserWarning):
    """Something about a weights file worth a line, not an error (the CLI prints it as 'note: ...')."""


def tensor_bytes(blob: bytes) -> memoryview:
    """The data part of a safetensors file: what follows the 8-byte header length and the JSON header."""
    return memoryview(blob)[8 + int.from_bytes(blob[:8], "little"):]


def digest(blob: bytes) -> str:
    return hashlib.sha256(tensor_bytes(blob)).hexdigest()


def sealed(save, tensors: dict, metadata: dict) -> bytes:
    """``save(tensors, metadata=...)`` with the digest of its tensor bytes added to the metadata (the data part
    does not depend on the metadata, so the second serialisation holds the same bytes)."""
    return save(tensors, metadata={**metadata, DIGEST_KEY: digest(save(tensors, metadata=metadata))})


def verify(blob: bytes, metadata: dict | None, name: str, error) -> None:
    """Raise ``error(message)`` when the tensor bytes do not match the stored digest; note a file without one."""
    stored = (metadata or {}).get(DIGEST_KEY)
    if stored is None:
        warnings.warn(f"{name} carries no sha256 digest (written by an older archspec): its tensors are loaded "
                      "unverified", WeightsNote, stacklevel=3)
    elif stored != digest(blob):
        raise error(f"{name} is damaged: its tensor data does not match the sha256 digest stored when it was "
                    "written (restore it from a copy, or train again)")
