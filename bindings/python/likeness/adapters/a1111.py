"""The AUTOMATIC1111 / Forge side of likeness: what its `postprocess_image` script hook does.

The hook (bindings/a1111/scripts/likeness_filter.py, a `scripts.Script` that is AlwaysVisible)
hands every generated image to LikenessPostprocessor.postprocess_image(p, pp), which

  * checks pp.image (a PIL image) against the registry;
  * replaces it with a blank image of the same size and mode when it is blocked;
  * always records the verdict: p.extra_generation_params["Likeness"] (a compact JSON summary,
    written into the saved image's infotext, since the webui saves each image right after its
    postprocess_image), the full result appended to p.likeness_results, and a log line.

The webui catches and only reports exceptions from script hooks, then carries on with the
image as it was; so a check that fails here blanks the image itself (on_error="blank", the
default) rather than let an unchecked image through.

Settings, read from the environment when no argument is given (the webui's process env; a
filter that each user could switch off in the generation UI would not be a filter):
  LIKENESS_REGISTRY           the registry folder
  LIKENESS_A1111_ON_BLOCK     blank (default) | pass: pass keeps the image and only records
  LIKENESS_A1111_BLOCK_ON     block (default) | block,review: which verdicts blank the image
  LIKENESS_A1111_ON_ERROR     blank (default) | pass: what a failed check does to the image
  LIKENESS_A1111_HASH_ONLY    1: PDQ alone, no CNN
  LIKENESS_A1111_REGIONS      0-9 half-size windows searched on their own
"""
import json
import logging
import os

from . import _common

logger = logging.getLogger("likeness.adapters.a1111")

_CHOICES = ("blank", "pass")


def _env(name, default):
    value = os.environ.get(name, "").strip()
    return value if value else default


def _choice(name, value):
    if value not in _CHOICES:
        raise ValueError(f"likeness: {name} must be 'blank' or 'pass', not {value!r}")
    return value


def blank_like(image):
    """A black image of the same size and mode (transparent black where the mode has alpha)."""
    from PIL import Image
    return Image.new(image.mode, image.size)


def _record(p, summary, full):
    p.extra_generation_params["Likeness"] = json.dumps(summary, separators=(",", ":"))
    full.update(iteration=getattr(p, "iteration", None), batch_index=getattr(p, "batch_index", None))
    if getattr(p, "likeness_results", None) is None:
        p.likeness_results = []
    p.likeness_results.append(full)


def record_failure(p, pp, error, *, blank=True):
    """Records a check that could not be made (the error's name and detail in place of a
    verdict) and blanks the image unless told not to; returns the summary."""
    summary = {"verdict": "error", "error": getattr(error, "name", type(error).__name__),
               "detail": str(error)[:200], "blanked": bool(blank)}
    logger.error("likeness: check failed (%s), image %s: %s", summary["error"],
                 "blanked" if blank else "passed unchecked", error)
    if blank:
        pp.image = blank_like(pp.image)
    _record(p, summary, dict(summary))
    return summary


class LikenessPostprocessor:
    def __init__(self, registry=None, *, on_block=None, block_on=None, on_error=None, hash_only=None, regions=None):
        self.registry = registry  # a path, None ($LIKENESS_REGISTRY) or an open likeness.Registry
        self.on_block = _choice("on_block", on_block or _env("LIKENESS_A1111_ON_BLOCK", "blank"))
        self.on_error = _choice("on_error", on_error or _env("LIKENESS_A1111_ON_ERROR", "blank"))
        if block_on is None:
            block_on = _env("LIKENESS_A1111_BLOCK_ON", "block").split(",")
        elif isinstance(block_on, str):
            block_on = block_on.split(",")
        self.block_on = frozenset(v.strip() for v in block_on if v.strip())
        if not self.block_on or self.block_on - {"block", "review"}:
            raise ValueError(f"likeness: block_on takes block and review, not {sorted(self.block_on)}")
        if hash_only is None:
            hash_only = _env("LIKENESS_A1111_HASH_ONLY", "0") not in ("0", "false", "no")
        self.hash_only = bool(hash_only)
        self.regions = int(_env("LIKENESS_A1111_REGIONS", "0") if regions is None else regions)

    def _registry(self):
        if self.registry is not None and not isinstance(self.registry, (str, bytes)) \
                and not hasattr(self.registry, "__fspath__"):
            return self.registry
        return _common.open_registry(self.registry)

    def postprocess_image(self, p, pp):
        """Checks pp.image, blanks it if so configured, records the verdict on p; returns the
        summary that was recorded."""
        try:
            result = self._registry().check(pp.image, hash_only=self.hash_only, regions=self.regions)
        except Exception as e:  # noqa: BLE001 - any failure must reach the image, see above
            return record_failure(p, pp, e, blank=self.on_error == "blank")
        blank = result.verdict in self.block_on and self.on_block == "blank"
        summary = dict(_common.summary(result), blanked=blank)
        (logger.warning if result.flagged else logger.info)("likeness: %s", json.dumps(summary))
        if blank:
            pp.image = blank_like(pp.image)
        _record(p, summary, dict(result.to_dict(), blanked=blank))
        return summary
