"""The figures' PNG encoder: lossless (decoded by Pillow to the same pixels), RGB when
opaque, RGBA otherwise, with the resolution recorded."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from simulator.report.png import encode_png


@pytest.mark.parametrize("opaque", [True, False])
def test_encode_png_is_lossless(opaque: bool) -> None:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    img[10:30, 5:40] = (200, 200, 200, 255)  # a flat block, as in a figure
    if opaque:
        img[..., 3] = 255
    data = encode_png(img, dpi=150)
    im = Image.open(io.BytesIO(data))
    assert im.mode == ("RGB" if opaque else "RGBA")
    assert im.size == (53, 37)
    assert round(im.info["dpi"][0]) == 150
    back = np.asarray(im.convert("RGBA"))
    assert (back == img).all()


def test_encode_png_rejects_other_arrays() -> None:
    with pytest.raises(ValueError, match="RGBA"):
        encode_png(np.zeros((4, 4, 3), dtype=np.uint8))
