"""likeness for AUTOMATIC1111 / Forge: an always-on script that checks every generated image.

Install: link (or copy) bindings/a1111 into the webui's extensions folder, e.g.
`ln -s /path/to/likeness/bindings/a1111 stable-diffusion-webui/extensions/likeness`, set
LIKENESS_REGISTRY (and LIKENESS_LIBRARY / LIKENESS_MODELS where the library is not installed)
in the webui's environment, restart. Settings: bindings/python/likeness/adapters/a1111.py.
"""
import os
import sys

import modules.scripts as scripts

try:
    from likeness.adapters.a1111 import LikenessPostprocessor, record_failure
except ImportError:
    # From the source tree: bindings/python is two folders up (realpath leaves the symlink).
    _tree = os.path.normpath(os.path.join(os.path.dirname(os.path.realpath(__file__)), os.pardir, os.pardir, "python"))
    if os.path.isdir(os.path.join(_tree, "likeness")) and _tree not in sys.path:
        sys.path.insert(0, _tree)
    from likeness.adapters.a1111 import LikenessPostprocessor, record_failure


# The webui instantiates every scripts.Script subclass it finds in this module, so this file
# defines exactly one and keeps the work in the adapter module.
class Script(scripts.Script):
    def __init__(self):
        super().__init__()
        self._filter = None

    def title(self):
        return "Likeness filter"

    def show(self, is_img2img):
        return scripts.AlwaysVisible

    def postprocess_image(self, p, pp, *args):
        # Built on first use, not at import, and any failure handled here: the webui only
        # reports what a script hook raises and keeps the image, which would pass it unchecked.
        if self._filter is None:
            try:
                self._filter = LikenessPostprocessor()
            except Exception as e:  # noqa: BLE001 - a bad setting must not open the filter
                record_failure(p, pp, e, blank=True)
                return
        self._filter.postprocess_image(p, pp)
