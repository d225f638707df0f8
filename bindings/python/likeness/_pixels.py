"""numpy arrays -> lk_pixel_view, without copying whenever the layout allows it.

A view lends C the caller's memory for the length of one call. Pixels must be interleaved
(each pixel's channels next to each other, pixels of a row next to each other); rows may be
anywhere, at any distance, in either direction, because lk_pixel_view has a signed row stride.
Anything else is copied once into a contiguous array.
"""
import numpy as np

from . import _lib
from .errors import LikenessError

# Copies made so far (the tests read it to show that the zero-copy layouts really are).
copies = 0

_UINT8_FORMATS = {1: _lib.LK_PIXEL_GRAY8, 3: _lib.LK_PIXEL_RGB8, 4: _lib.LK_PIXEL_RGBA8}
_INT32_MAX = 2**31 - 1


def _refuse(why):
    return LikenessError(_lib.LK_EINVAL, why)


def _copy(a):
    global copies
    copies += 1  # not locked: a count for tests, a lost increment under threads costs nothing
    return np.ascontiguousarray(a)


def _quantise(a):
    """Floats 0..1 to uint8 as lk_pixel_view's RGBF32 does: clamp, round(x * 255), ties to even."""
    global copies
    copies += 1
    return np.rint(np.clip(a, 0.0, 1.0) * 255.0).astype(np.uint8)


def _interleaved(a, channels):
    """True when pixels and channels are packed as C reads them; the row stride is free."""
    item = a.itemsize
    width = a.shape[1]
    if a.ndim == 3 and channels > 1 and a.strides[2] != item:
        return False
    # A dimension of length one has no meaningful stride.
    return width == 1 or a.strides[1] == channels * item


def as_image_array(image):
    """Any array-like image as an ndarray (PIL images included), or None if it is not one."""
    if isinstance(image, np.ndarray):
        return image
    mode = getattr(image, "mode", None)
    if isinstance(mode, str) and hasattr(image, "convert"):
        # PIL: palette, 1-bit, grey+alpha and the wide modes give numpy arrays that are not
        # pixels as C reads them (palette indices, int32); convert those to RGB(A) first.
        if mode not in ("L", "RGB", "RGBA"):
            transparent = "A" in mode or "transparency" in getattr(image, "info", {})
            image = image.convert("RGBA" if transparent else "RGB")
    if hasattr(image, "__array__") or hasattr(image, "__array_interface__"):
        return np.asarray(image)
    return None


def pixel_view(a):
    """(PixelView, owner): the view for ndarray `a`, and the array whose memory it points into,
    which the caller keeps alive until C returns. owner is `a` itself when no copy was made."""
    if a.ndim == 2:
        channels = 1
    elif a.ndim == 3:
        channels = a.shape[2]
    else:
        raise _refuse(f"an image array has 2 (HxW) or 3 (HxWxC) dimensions, not {a.ndim} (shape {a.shape})")
    if channels not in (1, 3, 4):
        raise _refuse(f"an image has 1, 3 or 4 channels (grey, RGB, RGBA), not {channels} (shape {a.shape})")
    height, width = a.shape[0], a.shape[1]
    if height == 0 or width == 0:
        raise _refuse(f"the image array is empty (shape {a.shape})")
    if height > _INT32_MAX or width > _INT32_MAX:
        raise _refuse(f"the image is too large for lk_pixel_view (shape {a.shape})")

    kind = a.dtype.kind
    if a.dtype == np.uint8:
        fmt = _UINT8_FORMATS[channels]
    elif kind == "f" and channels == 3:
        fmt = _lib.LK_PIXEL_RGBF32
        if a.dtype != np.float32:
            a = a.astype(np.float32)  # a copy, contiguous
            global copies
            copies += 1
    elif kind == "f":
        # C takes floats as RGB only; grey and RGBA are quantised here by C's own rule so that
        # the same picture gives the same hash whichever way it arrives.
        a = _quantise(a)
        fmt = _UINT8_FORMATS[channels]
    else:
        raise _refuse(f"image pixels are uint8 (0..255) or float (0..1), not {a.dtype}")

    if not a.flags.aligned or not _interleaved(a, channels):
        a = _copy(a)
    # Row distance as numpy knows it; a single row has none to speak of.
    stride = a.strides[0] if height > 1 else width * channels * a.itemsize
    view = _lib.PixelView(a.ctypes.data, width, height, stride, fmt)
    return view, a
