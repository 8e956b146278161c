"""Decoding one image file to the spec's H x W x C as uint8, safely (no tracebacks, no bombs).

Pillow's ``verify()`` passes a truncated JPEG; only a full decode (``load()``)
catches it, so every file is fully decoded once. Sizes are checked from the
header before decoding so a decompression bomb never allocates its pixels.
"""
from __future__ import annotations

import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..loader import open_read

MAX_PIXELS = 64 * 1024 * 1024  # larger images are refused before decoding (decompression-bomb guard)
MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}  # channels -> Pillow mode
SIXTEEN_BIT = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})  # grayscale modes read as 0..65535


class BadImage(Exception):
    """A file that cannot be used; ``reason`` groups the counted warnings."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def eight_bit(im):
    """16-bit grayscale as 8-bit L by the top byte of each value (as Pillow reads 16-bit RGB); Pillow's own
    convert('L') clips every value over 255, which made 16-bit scans decode almost white. Floating-point
    pixels (mode F, e.g. TIFF) are read as 0..1, the convention of float images; convert('L') rounded them to
    0 or 1 (black). Floats outside 0..1 have no range to scale by and are refused."""
    if im.mode == "F":
        values = np.asarray(im, dtype=np.float64)
        if not (np.isfinite(values).all() and values.min() >= 0 and values.max() <= 1):
            raise BadImage("float pixels outside 0..1", f"values from {values.min():g} to {values.max():g}"
                           " (floating-point images are read as 0..1; save 8- or 16-bit images instead)")
        return Image.fromarray(np.rint(values * 255).astype(np.uint8), "L")
    if im.mode not in SIXTEEN_BIT:
        return im
    return Image.fromarray((np.clip(np.asarray(im, dtype=np.int64), 0, 65535) >> 8).astype(np.uint8), "L")


def decode(path, shape: tuple, interpolation: str = "bilinear") -> np.ndarray:
    """File -> H x W x C uint8 array (converted to the channel count, resized); raises BadImage."""
    h, w, c = shape
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with open_read(path) as fh, Image.open(fh) as im:  # a FIFO nobody writes to reads as empty
                if im.width * im.height > MAX_PIXELS:
                    raise BadImage("too large", f"{im.width} x {im.height} pixels is over the limit of "
                                   f"{MAX_PIXELS:,} (decompression-bomb guard)")
                im.load()  # full decode: truncated files fail here, not in verify()
                im = eight_bit(im).convert(MODES[c])
                if im.size != (w, h):
                    im = im.resize((w, h), Image.Resampling[interpolation.upper()])
                arr = np.asarray(im, dtype=np.uint8)
        except BadImage:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise BadImage("too large", str(exc).split(" could be")[0].rstrip(",")) from None
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            raise BadImage("unreadable", exc.strerror or type(exc).__name__) from None
        except UnidentifiedImageError:
            raise BadImage("not an image", "Pillow does not recognise the file format") from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise BadImage("unreadable or truncated", str(exc) or type(exc).__name__) from None
    return arr.reshape(h, w, c)
