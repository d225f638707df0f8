"""Registry: an open likeness registry (lk_registry) with its embedder, and checks against it."""
import concurrent.futures
import ctypes
import os
import threading

import numpy as np

from . import _lib, _pixels
from .errors import LikenessError, check as _check
from .result import CheckResult

_ERRORS_MODES = ("raise", "return")


class Registry:
    """A registry of protected characters, open for checks.

    Registry(path=None, *, models=None, embedding=True)
        path: the registry directory; None: $LIKENESS_REGISTRY.
        embedding: True opens the CNN embedder from `models` (None: $LIKENESS_MODELS, else the
            folder the library was built with) and attaches it, so checks use both signals;
            False checks with PDQ alone.

    Checks may run on any number of threads at once. close() waits for running checks.
    """

    def __init__(self, path=None, *, models=None, embedding=True):
        self._reg = None
        self._embedder = None
        self._lock = threading.Condition()
        self._running = 0
        if path is None:
            path = os.environ.get("LIKENESS_REGISTRY")
            if not path:
                raise LikenessError(_lib.LK_EINVAL, "no registry given: pass a path or set LIKENESS_REGISTRY")
        self.path = os.fspath(path)
        handle = ctypes.c_void_p()
        _check(_lib.lib.lk_registry_open(ctypes.byref(handle), os.fsencode(self.path)))
        self._reg = handle
        if embedding:
            try:
                e = ctypes.c_void_p()
                _check(_lib.lib.lk_embedder_open(ctypes.byref(e), None if models is None else os.fsencode(models)))
                self._embedder = e
                _check(_lib.lib.lk_registry_set_embedder(self._reg, self._embedder))
            except BaseException:
                self.close()
                raise
        # One options struct per (hash_only, regions), built once: C only reads it.
        self._options = {}

    # ---- lifetime

    def close(self):
        """Closes the registry (and its embedder) once running checks have returned. Idempotent."""
        with self._lock:
            while self._running:
                self._lock.wait()
            reg, emb = self._reg, self._embedder
            self._reg = self._embedder = None
        if reg is not None:
            _lib.lib.lk_registry_close(reg)
        # After the registry: it borrows the embedder until it is closed.
        if emb is not None:
            _lib.lib.lk_embedder_close(emb)

    @property
    def closed(self):
        return self._reg is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_reg", None) is not None:
            self.close()

    def _enter(self):
        with self._lock:
            if self._reg is None:
                raise LikenessError(_lib.LK_EINVAL, "the registry is closed")
            self._running += 1
            return self._reg

    def _leave(self):
        with self._lock:
            self._running -= 1
            if not self._running:
                self._lock.notify_all()

    # ---- what it holds

    @property
    def version(self):
        """The registry's version: it increases with every committed change."""
        reg = self._enter()
        try:
            v = ctypes.c_uint64()
            _check(_lib.lib.lk_registry_version(ctypes.byref(v), reg))
            return v.value
        finally:
            self._leave()

    @property
    def embedder_id(self):
        """The attached embedder's id, or None when checks use PDQ alone."""
        if self._embedder is None:
            return None
        return _lib.lib.lk_embedder_id(self._embedder).decode()

    def info(self):
        """lk_registry_info_get as a dict."""
        reg = self._enter()
        try:
            i = _lib.RegistryInfo()
            _check(_lib.lib.lk_registry_info_get(ctypes.byref(i), reg))
        finally:
            self._leave()
        return {"version": i.version, "characters": i.characters, "enabled_characters": i.enabled_characters,
                "references": i.references, "embedded_references": i.embedded_references,
                "embedder": i.embedder.decode("utf-8", "replace"), "embed_copy": i.embed_copy,
                "embed_similar": i.embed_similar, "calibrated": bool(i.calibrated),
                "region_copy": i.region_copy, "region_similar": i.region_similar,
                "region_calibrated": bool(i.region_calibrated)}

    # ---- checks

    def _opts(self, hash_only, regions):
        key = (bool(hash_only), int(regions))
        o = self._options.get(key)
        if o is None:
            if not 0 <= key[1] <= _lib.LK_MAX_REGIONS:
                raise LikenessError(_lib.LK_EINVAL, f"regions must be 0..{_lib.LK_MAX_REGIONS}, not {regions}")
            o = self._options[key] = _lib.check_options(*key)
        return o

    def check(self, image, *, hash_only=False, regions=0):
        """Checks one image: a numpy array (HxW, HxWx1/3/4 uint8; HxWx3 float 0..1; others
        converted), a PIL image or other array-like, encoded bytes (bytes, bytearray,
        memoryview), or a file path (str, os.PathLike). Returns a CheckResult; raises
        LikenessError when the image cannot be checked."""
        opts = self._opts(hash_only, regions)
        out = _lib.CheckResult()
        if isinstance(image, (str, os.PathLike)):
            path = os.fsencode(image)
            reg = self._enter()
            try:
                rc = _lib.lib.lk_check_file(ctypes.byref(out), reg, path, ctypes.byref(opts))
            finally:
                self._leave()
        elif isinstance(image, (bytes, bytearray, memoryview)):
            data = _bytes_view(image)
            reg = self._enter()
            try:
                rc = _lib.lib.lk_check_bytes(ctypes.byref(out), reg, data.ctypes.data if data.size else None,
                                             data.size, ctypes.byref(opts))
            finally:
                self._leave()
        else:
            a = _pixels.as_image_array(image)
            if a is None:
                raise LikenessError(_lib.LK_EINVAL, f"cannot check a {type(image).__name__}: pass a numpy array, "
                                    "a PIL image, encoded bytes or a file path")
            view, keep = _pixels.pixel_view(a)
            reg = self._enter()
            try:
                rc = _lib.lib.lk_check_pixels(ctypes.byref(out), reg, ctypes.byref(view), ctypes.byref(opts))
            finally:
                self._leave()
            del keep  # alive until C has returned
        if rc != _lib.LK_OK:
            raise LikenessError(rc)
        return CheckResult(out)

    def check_batch(self, images, *, hash_only=False, regions=0, threads=None, errors="raise"):
        """Checks many images on a thread pool (threads None: one per core), results in input
        order. `images` is a sequence of anything check() takes, or an NHWC ndarray (each image a
        view of it). errors="raise" raises the first failure (in input order); errors="return"
        puts each failure's LikenessError in its place in the list."""
        if errors not in _ERRORS_MODES:
            raise ValueError(f"errors must be 'raise' or 'return', not {errors!r}")
        if isinstance(images, np.ndarray):
            if images.ndim != 4:
                raise LikenessError(_lib.LK_EINVAL, "a batch array is NHWC (4 dimensions), not shape "
                                    f"{images.shape}; pass a list of images otherwise")
            items = [images[i] for i in range(images.shape[0])]
        else:
            items = list(images)
        self._opts(hash_only, regions)  # bad options fail once, before any work

        def one(image):
            try:
                return self.check(image, hash_only=hash_only, regions=regions)
            except LikenessError as e:
                if errors == "return":
                    return e
                raise

        workers = (os.cpu_count() or 1) if threads is None else int(threads)
        if workers < 1:
            raise ValueError(f"threads must be at least 1, not {threads}")
        if workers == 1 or len(items) <= 1:
            return [one(image) for image in items]
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(workers, len(items)),
                                                     thread_name_prefix="likeness")
        try:
            return list(pool.map(one, items))
        finally:
            # After a failure, images not yet started are dropped rather than checked for nothing.
            pool.shutdown(wait=True, cancel_futures=True)

    def __repr__(self):
        state = "closed" if self.closed else ("pdq+embedding" if self._embedder is not None else "pdq")
        return f"Registry({self.path!r}, {state})"


def _bytes_view(b):
    """Encoded bytes as a uint8 array over the same memory (no copy for contiguous buffers)."""
    try:
        return np.frombuffer(b, dtype=np.uint8)
    except (ValueError, TypeError):
        # A strided memoryview: C needs one run of bytes.
        return np.frombuffer(bytes(b), dtype=np.uint8)
