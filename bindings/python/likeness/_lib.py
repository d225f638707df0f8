"""Loads liblikeness and declares what the binding calls: struct mirrors, constants, prototypes.

Every Structure here mirrors include/likeness.h field for field; tests/python/abi_layout.c
prints the C side's sizes and offsets and tests/python/test_binding.py holds these to them, so a
header change that is not repeated here fails the tests instead of corrupting memory.
"""
import ctypes
import ctypes.util
import os

# libgomp (faiss' OpenMP) reads this once when it is loaded; with the default active waiting,
# idle workers spin and halve batch throughput on small machines (include/likeness.h). A caller
# who set it keeps their choice.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# ---- constants, as in the header

LK_OK = 0
LK_EINVAL = -1
LK_ENOTIMAGE = -5
LK_ECPU = -13

LK_PIXEL_RGB8 = 1
LK_PIXEL_RGBA8 = 2
LK_PIXEL_GRAY8 = 3
LK_PIXEL_RGBF32 = 4

LK_SIGNAL_PDQ = 1
LK_SIGNAL_EMBEDDING = 2
LK_SIGNAL_REGION = 4

LK_PDQ_BYTES = 32
LK_SLUG_MAX = 64
LK_TEXT_MAX = 256
LK_EMBEDDER_ID_MAX = 64
LK_MAX_MATCHES = 8
LK_MAX_REGIONS = 9

# The versions of the options structs mirrored below: the library fills in their defaults
# (lk_*_options_init), so the binding never repeats them.
LK_INGEST_OPTIONS_VERSION = 1
LK_CHECK_OPTIONS_VERSION = 3

# ---- struct mirrors


class IngestOptions(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint),
        ("max_bytes", ctypes.c_size_t),
        ("max_pixels", ctypes.c_uint64),
        ("max_side", ctypes.c_uint32),
        ("background", ctypes.c_ubyte * 3),
        ("allow_svg", ctypes.c_int),
    ]


class PixelView(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("width", ctypes.c_int32),
        ("height", ctypes.c_int32),
        ("stride", ctypes.c_ssize_t),  # ptrdiff_t
        ("format", ctypes.c_int),
    ]


class SourceInfo(ctypes.Structure):
    _fields_ = [
        ("width", ctypes.c_int32),
        ("height", ctypes.c_int32),
        ("format", ctypes.c_char * 16),
    ]


class PdqHash(ctypes.Structure):
    _fields_ = [("bytes", ctypes.c_ubyte * LK_PDQ_BYTES)]


class Region(ctypes.Structure):
    _fields_ = [
        ("x", ctypes.c_float),
        ("y", ctypes.c_float),
        ("width", ctypes.c_float),
        ("height", ctypes.c_float),
    ]


class Match(ctypes.Structure):
    _fields_ = [
        ("reference_id", ctypes.c_int64),
        ("character", ctypes.c_char * LK_SLUG_MAX),
        ("character_name", ctypes.c_char * LK_TEXT_MAX),
        ("distance", ctypes.c_int),
        ("transform", ctypes.c_int),
        ("block_threshold", ctypes.c_int),
        ("review_threshold", ctypes.c_int),
        ("verdict", ctypes.c_int),
        ("allow", ctypes.c_int),
        ("similarity", ctypes.c_float),
        ("signals", ctypes.c_uint),
        ("reason", ctypes.c_int),
        ("region_similarity", ctypes.c_float),
        ("region_lead", ctypes.c_float),
        ("region", Region),
    ]


class CharacterDecision(ctypes.Structure):
    _fields_ = [
        ("character", ctypes.c_char * LK_SLUG_MAX),
        ("character_name", ctypes.c_char * LK_TEXT_MAX),
        ("franchise", ctypes.c_char * LK_SLUG_MAX),
        ("score", ctypes.c_float),
        ("threshold", ctypes.c_float),
        ("margin", ctypes.c_float),
        ("runner_up", ctypes.c_char * LK_SLUG_MAX),
        ("character_uncertain", ctypes.c_int),
        ("false_positive_rate", ctypes.c_double),
        ("calibration_negatives", ctypes.c_int64),
        ("n_nearest", ctypes.c_int),
        ("nearest", ctypes.c_int64 * 3),
        ("nearest_similarity", ctypes.c_float * 3),
        ("bank_pictures", ctypes.c_int),
        ("verdict", ctypes.c_int),
    ]


class CheckResult(ctypes.Structure):
    _fields_ = [
        ("verdict", ctypes.c_int),
        ("reason", ctypes.c_char * LK_TEXT_MAX),
        ("quality", ctypes.c_int),
        ("hash", PdqHash),
        ("source", SourceInfo),
        ("n_matches", ctypes.c_int),
        ("matches", Match * LK_MAX_MATCHES),
        ("registry_version", ctypes.c_uint64),
        ("signals", ctypes.c_uint),
        ("reason_code", ctypes.c_int),
        ("n_regions", ctypes.c_int),
        ("regions", Region * LK_MAX_REGIONS),
        ("decode_ms", ctypes.c_double),
        ("hash_ms", ctypes.c_double),
        ("embed_ms", ctypes.c_double),
        ("search_ms", ctypes.c_double),
        ("total_ms", ctypes.c_double),
        ("character", CharacterDecision),
    ]


class CheckOptions(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint),
        ("ingest", IngestOptions),
        ("hash_only", ctypes.c_int),
        ("regions", ctypes.c_int),
    ]


class RegistryInfo(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint64),
        ("characters", ctypes.c_int64),
        ("enabled_characters", ctypes.c_int64),
        ("references", ctypes.c_int64),
        ("embedded_references", ctypes.c_int64),
        ("embedder", ctypes.c_char * LK_EMBEDDER_ID_MAX),
        ("embed_copy", ctypes.c_float),
        ("embed_similar", ctypes.c_float),
        ("calibrated", ctypes.c_int),
        ("region_copy", ctypes.c_float),
        ("region_similar", ctypes.c_float),
        ("region_calibrated", ctypes.c_int),
    ]


# What the ABI test compares with the C compiler's answer: C name -> mirror.
MIRRORS = {
    "lk_ingest_options": IngestOptions,
    "lk_pixel_view": PixelView,
    "lk_source_info": SourceInfo,
    "lk_pdq_hash": PdqHash,
    "lk_region": Region,
    "lk_match": Match,
    "lk_check_result": CheckResult,
    "lk_character_decision": CharacterDecision,
    "lk_check_options": CheckOptions,
    "lk_registry_info": RegistryInfo,
}


def ingest_options():
    """A fresh IngestOptions holding the library's defaults (lk_ingest_options_init)."""
    from .errors import check  # errors imports this module

    o = IngestOptions()
    check(lib.lk_ingest_options_init(ctypes.byref(o), LK_INGEST_OPTIONS_VERSION))
    return o


def check_options(hash_only=False, regions=0):
    """A fresh CheckOptions holding the library's defaults (lk_check_options_init) with the two
    choices a check makes."""
    from .errors import check

    o = CheckOptions()
    check(lib.lk_check_options_init(ctypes.byref(o), LK_CHECK_OPTIONS_VERSION))
    o.hash_only = int(bool(hash_only))
    o.regions = int(regions)
    return o


# ---- loading


def _candidates():
    """Where to look for the library, most specific first, as (description, name) pairs."""
    given = os.environ.get("LIKENESS_LIBRARY")
    if given:
        # Set by the caller: no guessing past it, so a wrong path is reported, not papered over.
        return [("$LIKENESS_LIBRARY", given)]
    out = []
    found = ctypes.util.find_library("likeness")
    if found:
        out.append(("ctypes.util.find_library('likeness')", found))
    # Installed by `cmake --install`: the package sits in PREFIX/lib/python3/dist-packages, the
    # library in PREFIX/lib, which need not be on the loader's path.
    here = os.path.dirname(os.path.abspath(__file__))
    beside = os.path.normpath(os.path.join(here, "..", "..", "..", "liblikeness.so.0"))
    if os.path.exists(beside):
        out.append(("the installation prefix", beside))
    out.append(("the loader's search path", "liblikeness.so.0"))
    return out


def _load():
    tried = []
    for how, name in _candidates():
        try:
            # CDLL (not PyDLL): ctypes releases the GIL for the length of every call.
            return ctypes.CDLL(name)
        except OSError as e:
            tried.append(f"{name} ({how}): {e}")
    raise ImportError("likeness: cannot load the shared library liblikeness; tried " + "; ".join(tried)
                      + ". Install likeness, or set LIKENESS_LIBRARY to the path of liblikeness.so.0")


lib = _load()


def _proto(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)


_int, _p, _cp = ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p
_proto("lk_strerror", _cp, _int)
_proto("lk_error_name", _cp, _int)
_proto("lk_error_detail", _cp)
_proto("lk_init", _int)
_proto("lk_cpu_check", _int)
_proto("lk_version", _cp)
_proto("lk_version_number", ctypes.c_uint)
_proto("lk_ingest_options_init", _int, ctypes.POINTER(IngestOptions), ctypes.c_uint)
_proto("lk_check_options_init", _int, ctypes.POINTER(CheckOptions), ctypes.c_uint)
_proto("lk_verdict_name", _cp, _int)
_proto("lk_reason_name", _cp, _int)
_proto("lk_dihedral_name", _cp, _int)
_proto("lk_registry_open", _int, ctypes.POINTER(_p), _cp)
_proto("lk_registry_close", None, _p)
_proto("lk_registry_version", _int, ctypes.POINTER(ctypes.c_uint64), _p)
_proto("lk_registry_info_get", _int, ctypes.POINTER(RegistryInfo), _p)
_proto("lk_registry_set_embedder", _int, _p, _p)
_proto("lk_embedder_open", _int, ctypes.POINTER(_p), _cp)
_proto("lk_embedder_close", None, _p)
_proto("lk_embedder_id", _cp, _p)
_proto("lk_check_file", _int, ctypes.POINTER(CheckResult), _p, _cp, ctypes.POINTER(CheckOptions))
_proto("lk_check_bytes", _int, ctypes.POINTER(CheckResult), _p, _p, ctypes.c_size_t,
       ctypes.POINTER(CheckOptions))
_proto("lk_check_pixels", _int, ctypes.POINTER(CheckResult), _p, ctypes.POINTER(PixelView),
       ctypes.POINTER(CheckOptions))


def _text(p):
    return p.decode("utf-8", "replace") if p is not None else ""


def detail():
    """lk_error_detail() of the calling thread."""
    return _text(lib.lk_error_detail())


def error_name(code):
    return _text(lib.lk_error_name(code))


def strerror(code):
    return _text(lib.lk_strerror(code))


def _start():
    rc = lib.lk_init()
    if rc != LK_OK:
        raise ImportError(f"likeness: lk_init failed: {error_name(rc)}: {detail()}")
    rc = lib.lk_cpu_check()
    if rc != LK_OK:
        raise ImportError(f"likeness: this CPU cannot run this build: {error_name(rc)}: {detail()}")


_start()

# Names are static strings in C: read each once rather than once per match.
VERDICTS = {v: _text(lib.lk_verdict_name(v)) for v in range(3)}
REASONS = {r: _text(lib.lk_reason_name(r)) for r in range(4)}
TRANSFORMS = {t: _text(lib.lk_dihedral_name(t)) for t in range(8)}
