"""The AUTOMATIC1111 / Forge extension (bindings/a1111/scripts/likeness_filter.py and
likeness.adapters.a1111), loaded and called as the webui does, with stubs/modules in place of the
webui's modules package."""
import importlib.util
import json
import os
import subprocess
import sys
import unittest

import numpy as np

import adapter_fixtures
from modules import scripts

SCRIPT = os.path.join(adapter_fixtures.ROOT, "bindings", "a1111", "scripts", "likeness_filter.py")
ENV = ("LIKENESS_REGISTRY", "LIKENESS_A1111_ON_BLOCK", "LIKENESS_A1111_BLOCK_ON", "LIKENESS_A1111_ON_ERROR",
       "LIKENESS_A1111_HASH_ONLY", "LIKENESS_A1111_REGIONS")


def load_script_classes():
    """As the webui's script_loading.load_module and its scan of the module's namespace."""
    spec = importlib.util.spec_from_file_location(os.path.basename(SCRIPT), SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [c for c in module.__dict__.values() if type(c) == type and issubclass(c, scripts.Script)]


class Processing:
    """The parts of StableDiffusionProcessing a postprocess_image script sees."""

    def __init__(self):
        self.extra_generation_params = {}
        self.script_args = ()
        self.iteration = 0
        self.batch_index = 0


def setUpModule():
    global R
    R = adapter_fixtures.registry()


class Extension(unittest.TestCase):
    def setUp(self):
        self.saved = {k: os.environ.pop(k, None) for k in ENV}
        os.environ["LIKENESS_REGISTRY"] = R.path
        classes = load_script_classes()
        self.assertEqual(len(classes), 1)
        self.script = classes[0]()
        self.script.args_from = self.script.args_to = 0
        self.runner = scripts.ScriptRunner([self.script])
        self.assertEqual(self.runner.alwayson_scripts, [self.script])

    def tearDown(self):
        for k, v in self.saved.items():
            os.environ.pop(k, None)
            if v is not None:
                os.environ[k] = v

    def run_image(self, image, p=None):
        p = p or Processing()
        pp = scripts.PostprocessImageArgs(image)
        with self.assertLogs("likeness.adapters.a1111", "INFO"):
            self.runner.postprocess_image(p, pp)
        self.assertEqual(self.runner.errors, [])  # nothing left for the webui to swallow
        return p, pp

    def test_title_and_always_visible(self):
        self.assertIsInstance(self.script.title(), str)
        self.assertIs(self.script.show(False), scripts.AlwaysVisible)
        self.assertIs(self.script.show(True), scripts.AlwaysVisible)

    def test_reference_is_blanked_and_the_verdict_recorded(self):
        p = Processing()
        p.iteration, p.batch_index = 2, 1
        rgba = R.reference.convert("RGBA")
        p, pp = self.run_image(rgba, p)
        self.assertIsNot(pp.image, rgba)
        self.assertEqual((pp.image.mode, pp.image.size), ("RGBA", rgba.size))
        self.assertEqual(np.asarray(pp.image).max(), 0)
        text = p.extra_generation_params["Likeness"]
        self.assertNotIn(" ", text)
        s = json.loads(text)
        self.assertEqual((s["verdict"], s["character"], s["name"], s["blanked"]), ("block", "sunny", "Sunny", True))
        full = p.likeness_results[0]
        self.assertEqual(full["matches"][0]["character"], "sunny")
        self.assertEqual((full["iteration"], full["batch_index"]), (2, 1))

    def test_unrelated_image_passes_untouched(self):
        p, pp = self.run_image(R.unrelated)
        self.assertIs(pp.image, R.unrelated)
        s = json.loads(p.extra_generation_params["Likeness"])
        self.assertEqual((s["verdict"], s["blanked"]), ("allow", False))
        self.assertNotIn("character", s)

    def test_each_image_of_a_batch_is_recorded_in_order(self):
        p = Processing()
        for i, img in enumerate((R.unrelated, R.reference, R.unrelated)):
            p.batch_index = i
            self.run_image(img, p)
        self.assertEqual([r["verdict"] for r in p.likeness_results], ["allow", "block", "allow"])
        self.assertEqual([r["batch_index"] for r in p.likeness_results], [0, 1, 2])

    def test_on_block_pass_keeps_the_image_and_records(self):
        os.environ["LIKENESS_A1111_ON_BLOCK"] = "pass"
        p, pp = self.run_image(R.reference)
        self.assertIs(pp.image, R.reference)
        s = json.loads(p.extra_generation_params["Likeness"])
        self.assertEqual((s["verdict"], s["blanked"]), ("block", False))

    def test_bad_registry_path_blanks_and_records_the_error(self):
        missing = os.path.join(R.dir, "missing")
        os.environ["LIKENESS_REGISTRY"] = missing
        p, pp = self.run_image(R.unrelated)
        self.assertEqual(np.asarray(pp.image).max(), 0)
        s = json.loads(p.extra_generation_params["Likeness"])
        self.assertEqual((s["verdict"], s["error"], s["blanked"]), ("error", "FileNotFoundError", True))
        self.assertIn(missing, s["detail"])

    def test_on_error_pass_keeps_the_image_and_records_the_error(self):
        os.environ["LIKENESS_REGISTRY"] = R.dir  # a folder, but not a registry
        os.environ["LIKENESS_A1111_ON_ERROR"] = "pass"
        p, pp = self.run_image(R.unrelated)
        self.assertIs(pp.image, R.unrelated)
        s = json.loads(p.extra_generation_params["Likeness"])
        self.assertEqual(s["verdict"], "error")
        self.assertTrue(s["error"].startswith("LK_E"), s)
        self.assertFalse(s["blanked"])

    def test_a_bad_setting_blanks_rather_than_passing_unchecked(self):
        os.environ["LIKENESS_A1111_ON_BLOCK"] = "blur"
        p, pp = self.run_image(R.unrelated)
        self.assertEqual(np.asarray(pp.image).max(), 0)
        s = json.loads(p.extra_generation_params["Likeness"])
        self.assertEqual((s["verdict"], s["error"]), ("error", "ValueError"))

    def test_hash_only_setting(self):
        os.environ["LIKENESS_A1111_HASH_ONLY"] = "1"
        p, _ = self.run_image(R.reference)
        self.assertEqual(p.likeness_results[0]["signals"], ["pdq"])

    def test_extension_loads_from_the_source_tree_alone(self):
        # A webui whose Python knows only its own modules: likeness is found beside the script.
        env = dict(os.environ, PYTHONPATH=os.path.dirname(scripts.__file__) + os.sep + os.pardir)
        code = ("import importlib.util\n"
                f"spec = importlib.util.spec_from_file_location('likeness_filter.py', {SCRIPT!r})\n"
                "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
                "print(m.Script().title())\n")
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), "Likeness filter")


if __name__ == "__main__":
    unittest.main()
