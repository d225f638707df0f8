"""likeness: checks images against a registry of protected characters (Python binding).

A ctypes binding of liblikeness: no compilation step, the installed shared library is loaded
(set LIKENESS_LIBRARY to choose one). See bindings/python/README.md.

    import likeness
    with likeness.Registry("/srv/registry") as reg:
        r = reg.check(numpy_image)        # HxWx3 uint8, HxWx3 float32 0..1, bytes, a path...
        if r.blocked: ...
"""
from . import _lib
from .errors import LikenessError
from .registry import Registry
from .result import CheckResult, Match

__all__ = ["CheckResult", "LikenessError", "Match", "Registry", "version", "strerror", "error_name"]


def version():
    """The loaded library's version (lk_version), e.g. "0.1.0"."""
    return _lib.lib.lk_version().decode()


def strerror(code):
    """The fixed sentence for an lk_error code."""
    return _lib.strerror(code)


def error_name(code):
    """The stable name of an lk_error code, e.g. "LK_ENOTIMAGE"."""
    return _lib.error_name(code)
