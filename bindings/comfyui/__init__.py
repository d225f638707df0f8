"""ComfyUI custom_nodes entry point for likeness.

Install: link (or copy) this folder into ComfyUI/custom_nodes under any name except `likeness`,
e.g. `ln -s /path/to/likeness/bindings/comfyui ComfyUI/custom_nodes/comfyui-likeness`, and make
the `likeness` Python package importable (pip-installed, or left beside this folder in the
likeness source tree, which is found through the link). See bindings/python/adapters.md.
"""
import os
import sys

# ComfyUI registers a custom node package in sys.modules under its folder's name; a folder named
# `likeness` would take the place of the likeness package itself and nothing could import it.
if __name__.rpartition(".")[2] == "likeness":
    raise ImportError("likeness: rename this custom_nodes folder (e.g. comfyui-likeness): "
                      "the name 'likeness' hides the likeness Python package")

try:
    import likeness  # noqa: F401
except ImportError:
    # Running from the source tree: bindings/python sits next to this folder (realpath follows
    # the symlink into custom_nodes back to the tree).
    _tree = os.path.join(os.path.dirname(os.path.realpath(__file__)), os.pardir, "python")
    if os.path.isdir(os.path.join(_tree, "likeness")):
        sys.path.insert(0, os.path.normpath(_tree))
    import likeness  # noqa: F401

from likeness.adapters.comfyui import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS  # noqa: E402

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
