"""A diffusers `safety_checker` that checks generated images against a likeness registry.

    from likeness.adapters.diffusers import LikenessSafetyChecker
    checker = LikenessSafetyChecker("/srv/registry")
    checker.install(pipe)            # pipe.safety_checker = checker, plus a feature extractor if none
    out = pipe(prompt)
    out.nsfw_content_detected        # per image: True where likeness flagged it (and it was blanked)
    checker.last_results             # per image: the full likeness CheckResult, this thread's last call

What pipelines hand a safety checker (read in diffusers' own run_safety_checker):
  * current releases (pipelines with a VaeImageProcessor) pass the VAE's decoded tensor, NCHW,
    values in -1..1, unclamped, on the pipeline's device and dtype; a flagged image comes back as
    zeros and the pipeline skips its denormalisation, so it is saved black;
  * older releases (decode_latents before the safety check) pass numpy NHWC float in 0..1;
  * callers outside a pipeline often pass a list of PIL images.
All three are accepted; flagged images are replaced in place by zeros of the same type (a black
PIL image for PIL), as StableDiffusionSafetyChecker does, and the same container is returned.
`clip_input` is ignored: likeness computes its own signals from the pixels.
"""
import logging
import threading

import numpy as np

from . import _common

logger = logging.getLogger("likeness.adapters.diffusers")


def _is_pil(x):
    return hasattr(x, "mode") and hasattr(x, "size") and hasattr(x, "getbands")


class _NoPixelValues:
    """Stands in for a CLIP feature extractor's output: run_safety_checker moves it to the device
    and passes `.pixel_values.to(dtype)` as clip_input, which this checker ignores."""

    def to(self, *args, **kwargs):
        return self

    @property
    def pixel_values(self):
        return self


class NoFeatureExtractor:
    """A feature extractor that computes nothing, for pipelines built with feature_extractor=None
    (run_safety_checker calls it before the safety checker and would fail on None)."""

    def __call__(self, images=None, return_tensors=None, **kwargs):
        return _NoPixelValues()


class LikenessSafetyChecker:
    """Callable as `(images, clip_input) -> (images, has_nsfw_concepts)`.

    registry_or_path: a likeness.Registry, or a registry folder (opened once and shared; None:
        $LIKENESS_REGISTRY).
    block_on: verdicts that blank an image and set its flag; ("block", "review") also blanks
        images a person should look at.
    hash_only, regions: as in Registry.check.
    tensor_range: the value range of tensor input (diffusers' decoded images: -1..1).
    on_result: called as on_result(results, flags) after every call, on the calling thread, with
        the CheckResults in batch order; for logging or storing evidence.
    """

    def __init__(self, registry_or_path=None, *, block_on=("block",), hash_only=False, regions=0,
                 tensor_range=(-1.0, 1.0), on_result=None):
        if registry_or_path is None or isinstance(registry_or_path, (str, bytes)) or hasattr(registry_or_path, "__fspath__"):
            self.registry = _common.open_registry(registry_or_path)
        else:
            self.registry = registry_or_path
        if isinstance(block_on, str):
            block_on = (block_on,)
        unknown = set(block_on) - {"block", "review"}
        if unknown:
            raise ValueError(f"likeness: block_on takes 'block' and 'review', not {sorted(unknown)}")
        self.block_on = frozenset(block_on)
        self.hash_only = bool(hash_only)
        self.regions = int(regions)
        lo, hi = tensor_range
        if not hi > lo:
            raise ValueError("likeness: tensor_range must be (low, high) with high > low")
        self.tensor_range = (float(lo), float(hi))
        self.on_result = on_result
        self._local = threading.local()

    @property
    def last_results(self):
        """This thread's latest call: one CheckResult per image, in batch order ([] before any).
        Per thread, because one pipeline may serve several request threads."""
        return getattr(self._local, "results", [])

    def install(self, pipe):
        """Makes `pipe` use this checker. Keeps an existing feature_extractor (IP-Adapter
        pipelines use it for their image encoder too); supplies one that computes nothing where
        there is none, since run_safety_checker calls it before any safety checker."""
        pipe.safety_checker = self
        if getattr(pipe, "feature_extractor", None) is None:
            pipe.feature_extractor = NoFeatureExtractor()
        return pipe

    def _pixels(self, images):
        """What to give the binding, in batch order."""
        if _common.is_tensor(images):
            arr = _common.tensor_numpy(images)  # float16 and bfloat16 from the pipeline's dtype
            if arr.ndim != 4 or arr.shape[1] not in (1, 3, 4):
                raise ValueError(f"likeness: expected an NCHW image tensor, got shape {tuple(arr.shape)}")
            lo, hi = self.tensor_range
            # The VAE's output overshoots its range; clamp as the pipeline's own postprocess does.
            arr = np.clip((arr.transpose(0, 2, 3, 1) - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)
            return arr
        if isinstance(images, np.ndarray):
            if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
                raise ValueError(f"likeness: expected NHWC numpy images, got shape {images.shape}")
            if images.dtype != np.uint8 and images.dtype != np.float32:
                images = images.astype(np.float32)
            return images
        if isinstance(images, (list, tuple)):
            return list(images)  # PIL images (or arrays, paths): the binding reads each
        raise TypeError(f"likeness: cannot check images of type {type(images).__name__}")

    def __call__(self, images, clip_input=None, **kwargs):
        if isinstance(images, tuple):
            images = list(images)  # replaced in place below
        results = self.registry.check_batch(self._pixels(images), hash_only=self.hash_only, regions=self.regions)
        flags = [r.verdict in self.block_on for r in results]
        for i, flagged in enumerate(flags):
            if not flagged:
                continue
            if _is_pil(images[i]):
                from PIL import Image  # only PIL input gets here, and then PIL is installed
                images[i] = Image.new(images[i].mode, images[i].size)
            else:
                images[i] = 0  # in place, zeros of the tensor's or array's own dtype and device
        self._local.results = results
        if any(flags):
            hits = [_common.summary(r) for r, f in zip(results, flags) if f]
            logger.warning("likeness: %d of %d images blanked: %s", sum(flags), len(flags), hits)
        if self.on_result is not None:
            self.on_result(results, flags)
        return images, flags
