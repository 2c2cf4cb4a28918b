"""A fast PNG encoder for rendered figures.

Pillow's PNG encoder (what ``savefig`` uses) takes ~30 ms for a 1500×1140 figure, a
fifth of the figure's cost. Figures are mostly flat colour, so the PNG "Up" filter
(each row minus the row above, one vectorised subtraction) leaves long runs of zeros
that zlib at level 3 compresses fast: ~2.5× quicker, and smaller files than Pillow's
default. Opaque images (relsim's figures have a white background) are written as RGB.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = ["encode_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_png(rgba: np.ndarray, dpi: float | None = None, level: int = 3) -> bytes:
    """Encode an 8-bit RGBA image (height × width × 4) as PNG.

    Args:
        rgba: The pixels, top row first.
        dpi: Resolution to record (the ``pHYs`` chunk), if any.
        level: zlib compression level.

    Returns:
        The PNG file's bytes (RGB when every pixel is opaque, else RGBA).
    """
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError("expected an 8-bit RGBA image")
    h, w, _ = rgba.shape
    opaque = bool((rgba[..., 3] == 255).all())
    px = np.ascontiguousarray(rgba[..., :3]) if opaque else rgba
    rows = px.reshape(h, -1)
    data = np.empty((h, rows.shape[1] + 1), dtype=np.uint8)
    data[:, 0] = 2  # filter "Up": byte minus the byte above (mod 256)
    data[0, 0] = 0  # the first row has none above: no filter
    data[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=data[1:, 1:], dtype=np.uint8, casting="unsafe")
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2 if opaque else 6, 0, 0, 0)
    out = [_SIGNATURE, _chunk(b"IHDR", ihdr)]
    if dpi:
        ppm = round(dpi / 0.0254)
        out.append(_chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)))
    out.append(_chunk(b"tEXt", b"Software\x00relsim (matplotlib Agg)"))
    out.append(_chunk(b"IDAT", zlib.compress(data.tobytes(), level)))
    out.append(_chunk(b"IEND", b""))
    return b"".join(out)
