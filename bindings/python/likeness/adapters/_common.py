"""What the adapters share: one open registry per path, and a short summary of a result."""
import os
import threading

import likeness

_lock = threading.Lock()
_registries = {}


def registry_path(path):
    """The registry directory to use: `path`, else $LIKENESS_REGISTRY; refuses neither."""
    path = os.fspath(path) if path else ""
    path = path.strip() or os.environ.get("LIKENESS_REGISTRY", "").strip()
    if not path:
        raise ValueError("likeness: no registry given and LIKENESS_REGISTRY is not set "
                         "(create one with `likeness init DIR`)")
    return path


def open_registry(path=None, *, embedding=True):
    """An open likeness.Registry for `path` (default $LIKENESS_REGISTRY), shared by every caller.

    Opening loads the CNN (hundreds of milliseconds), so hosts that call per image or per node
    execution must not open one each time. A registry follows its own changes (each check sees
    the latest committed version), so a cached handle never goes stale.
    """
    path = registry_path(path)
    # A missing folder would otherwise surface as a database error from deep inside the library.
    if not os.path.isdir(path):
        raise FileNotFoundError(f"likeness: registry folder {path!r} does not exist "
                                "(create one with `likeness init DIR`)")
    key = (os.path.realpath(path), bool(embedding))
    with _lock:
        reg = _registries.get(key)
        if reg is None:
            reg = likeness.Registry(path, embedding=embedding)
            _registries[key] = reg
        return reg


def close_registries():
    """Closes every cached registry (tests; hosts that unload the adapter)."""
    with _lock:
        regs = list(_registries.values())
        _registries.clear()
    for reg in regs:
        reg.close()


def is_tensor(x):
    """A torch tensor (or anything read the same way), told apart without importing torch."""
    return hasattr(x, "detach") and hasattr(x, "cpu") and hasattr(x, "numpy")


def tensor_numpy(t):
    """A tensor's values as a float32 numpy array on the CPU (numpy has no bfloat16, and the
    binding would copy float16 anyway)."""
    t = t.detach().cpu()
    if str(getattr(t, "dtype", "torch.float32")) != "torch.float32":
        t = t.float()
    return t.numpy()


def summary(result):
    """The few fields a person reading a log line or an image's metadata needs: the character a
    flag names (the character model's when that decided, else the closest match's)."""
    top = result.matches[0] if result.matches else None
    out = {"verdict": result.verdict, "reason": result.reason_code, "score": round(result.score, 3)}
    decision = getattr(result, "character", None)
    if result.reason_code == "character" and decision is not None:
        out["character"] = decision.character
        out["name"] = decision.character_name
        out["franchise"] = decision.franchise
        out["character_score"] = round(decision.score, 3)
        if decision.false_positive_rate is not None:
            out["false_positive_rate"] = decision.false_positive_rate
    elif top is not None:
        out["character"] = top.character
        out["name"] = top.character_name
        if top.distance is not None:
            out["distance"] = top.distance
        if top.similarity is not None:
            out["similarity"] = round(top.similarity, 3)
    out["registry_version"] = result.registry_version
    return out
