"""LikenessError: a failed likeness call, with the library's code, name and detail."""
from . import _lib


class LikenessError(Exception):
    """A likeness call failed.

    code:   the lk_error value (negative int), e.g. -5
    name:   its stable name, e.g. "LK_ENOTIMAGE"
    detail: what exactly was wrong (lk_error_detail() right after the failure, or the binding's
            own description when the binding refused the input before calling C)
    """

    def __init__(self, code, detail=None):
        self.code = int(code)
        self.name = _lib.error_name(self.code)
        # The detail is per thread and overwritten by the next call on it: read it now.
        self.detail = _lib.detail() if detail is None else detail
        self.message = _lib.strerror(self.code)
        super().__init__(self.code, self.detail)

    def __str__(self):
        if self.detail:
            return f"{self.name}: {self.message}: {self.detail}"
        return f"{self.name}: {self.message}"

    def __repr__(self):
        return f"LikenessError({self.name}, {self.detail!r})"

    def __reduce__(self):
        # Rebuilt from code and detail alone, so it survives pickling (multiprocessing) without
        # reading another call's detail on the receiving side.
        return (LikenessError, (self.code, self.detail))


def check(rc):
    """Raises LikenessError for a failed return code."""
    if rc != _lib.LK_OK:
        raise LikenessError(rc)
