"""A registry for the adapter tests, made with the `likeness` program as a user would: one demo
character (sunny) whose reference is rendered from demo/characters/sunny.svg by vips; bolt, another
demo character, is the unrelated image.

Environment (set by CMake's add_test; defaults for a run from the source tree):
  LK_CLI_PATH        the likeness program (default build/likeness)
  LIKENESS_LIBRARY   the shared library the binding loads
  LIKENESS_MODELS    the CNN models
"""
import atexit
import os
import shutil
import subprocess
import tempfile

import numpy as np
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
CLI = os.environ.get("LK_CLI_PATH") or os.path.join(ROOT, "build", "likeness")


def _run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class Registry:
    """Makes the registry once per process; .path, .reference (PIL RGB), .unrelated (PIL RGB)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="likeness-adapters-")
        atexit.register(shutil.rmtree, self.dir, True)
        pngs = {}
        for name in ("sunny", "bolt"):
            pngs[name] = os.path.join(self.dir, f"{name}.png")
            _run("vips", "flatten", os.path.join(ROOT, "demo", "characters", f"{name}.svg"), pngs[name],
                 "--background", "255 255 255")
        self.path = os.path.join(self.dir, "registry")
        _run(CLI, "init", self.path)
        _run(CLI, "character", "add", "sunny", "--name", "Sunny", "-r", self.path)
        _run(CLI, "ref", "add", "sunny", pngs["sunny"], "-r", self.path)
        self.reference = Image.open(pngs["sunny"]).convert("RGB")
        self.unrelated = Image.open(pngs["bolt"]).convert("RGB")

    def batch(self, *names, size=None):
        """NHWC float32 in 0..1, e.g. batch("unrelated", "reference")."""
        out = []
        for n in names:
            img = getattr(self, n)
            if size is not None:
                img = img.resize(size)
            out.append(np.asarray(img, dtype=np.float32) / 255.0)
        return np.stack(out)


_made = None


def registry():
    global _made
    if _made is None:
        _made = Registry()
    return _made
