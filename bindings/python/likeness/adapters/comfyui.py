"""A ComfyUI custom node: checks a batch of IMAGEs against a likeness registry.

IMAGE in ComfyUI is a torch tensor [batch, height, width, channels], float32 in 0..1. The node
returns the batch with blocked images blanked (or passed on unchanged), whether any was blocked,
the highest score, and every image's full result as a JSON array in batch order, so a workflow
can route, log or save the evidence and not only see a black image.

torch is never imported here: the tensor is read through its own methods, so the module loads
(and is tested) without torch, and numpy arrays work the same way.
"""
import json
import os

import numpy as np

from . import _common

ON_BLOCK = ("black", "pass")


def _to_numpy(images):
    """[B,H,W,C] float 0..1 as numpy, without copying what is already a float32 CPU array."""
    if _common.is_tensor(images):
        arr = _common.tensor_numpy(images)
    else:
        arr = np.asarray(images)
    if arr.ndim == 3:  # one image without its batch axis
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3, 4):
        raise ValueError(f"likeness: IMAGE must be [batch, height, width, 1|3|4], got shape {tuple(arr.shape)}")
    if arr.dtype != np.float32 and arr.dtype != np.uint8:
        arr = arr.astype(np.float32)
    return arr


def _blanked(images, indexes):
    """A copy of the batch (same type, device and dtype) with the given images set to zero;
    the input is left as it was, since ComfyUI caches it and other nodes may read it."""
    out = images.clone() if hasattr(images, "clone") else np.array(images, copy=True)
    for i in indexes:
        out[i] = 0
    return out


class LikenessCheck:
    """ComfyUI node: images -> (images, any_blocked, max_score, results_json)."""

    @classmethod
    def INPUT_TYPES(cls):
        # The default is read when the UI asks for the node list, i.e. from the server's env.
        return {
            "required": {
                "images": ("IMAGE",),
                "registry": ("STRING", {"default": os.environ.get("LIKENESS_REGISTRY", ""), "multiline": False,
                                        "tooltip": "registry folder; empty: $LIKENESS_REGISTRY"}),
                "on_block": (list(ON_BLOCK), {"default": "black",
                                              "tooltip": "black: blank blocked images; pass: only report"}),
                "hash_only": ("BOOLEAN", {"default": False, "tooltip": "PDQ alone, no CNN (faster, misses crops)"}),
            },
            "optional": {
                "regions": ("INT", {"default": 0, "min": 0, "max": 9, "step": 1,
                                    "tooltip": "also search N half-size windows (characters inside scenes)"}),
            },
        }

    RETURN_TYPES = ("IMAGE", "BOOLEAN", "FLOAT", "STRING")
    RETURN_NAMES = ("images", "any_blocked", "max_score", "results_json")
    FUNCTION = "check"
    CATEGORY = "image/likeness"
    DESCRIPTION = "Checks images against a registry of protected characters; blanks blocked ones."
    # Not an output node: it is a filter whose image output feeds Save/Preview, so it runs
    # whenever they do, and a graph that uses none of its outputs has no reason to run it.
    OUTPUT_NODE = False
    # No VALIDATE_INPUTS: ComfyUI's own validation already holds on_block to its list and
    # regions to its range, and defining one would switch that off for the inputs it takes.

    @classmethod
    def IS_CHANGED(cls, registry="", **kwargs):
        # ComfyUI reuses a node's cached outputs while its inputs are unchanged; a takedown
        # changes the registry, not the inputs, and must still apply to the next run. The
        # registry's version moves with every committed change. Where it cannot be read, NaN
        # (never equal to itself) makes ComfyUI run the node, which then reports the error.
        try:
            reg = _common.open_registry(registry)
            return f"{os.path.realpath(reg.path)}@{reg.version}"
        except Exception:  # noqa: BLE001
            return float("nan")

    def check(self, images, registry="", on_block="black", hash_only=False, regions=0):
        if on_block not in ON_BLOCK:
            raise ValueError(f"likeness: on_block must be one of {ON_BLOCK}, not {on_block!r}")
        reg = _common.open_registry(registry)
        # A failed check raises: a filter that cannot check must stop the workflow, not pass.
        results = reg.check_batch(_to_numpy(images), hash_only=bool(hash_only), regions=int(regions))
        blocked = [i for i, r in enumerate(results) if r.blocked]
        out = _blanked(images, blocked) if blocked and on_block == "black" else images
        report = []
        for i, r in enumerate(results):
            d = r.to_dict()
            d["index"] = i
            d["blanked"] = r.blocked and on_block == "black"
            report.append(d)
        max_score = max((r.score for r in results), default=0.0)
        return (out, bool(blocked), float(max_score), json.dumps(report))


NODE_CLASS_MAPPINGS = {"LikenessCheck": LikenessCheck}
NODE_DISPLAY_NAME_MAPPINGS = {"LikenessCheck": "Likeness check (protected characters)"}
