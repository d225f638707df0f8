"""The ComfyUI node (likeness.adapters.comfyui) and its custom_nodes entry point
(bindings/comfyui), with faketorch tensors in place of torch."""
import importlib.util
import json
import os
import subprocess
import sys
import unittest

import numpy as np

import adapter_fixtures
import faketorch
import likeness
from likeness.adapters import _common, comfyui

ENTRY = os.path.join(adapter_fixtures.ROOT, "bindings", "comfyui", "__init__.py")


def load_as_comfyui(folder_name):
    """Imports bindings/comfyui the way ComfyUI's load_custom_node does: a spec from the
    folder's __init__.py, registered in sys.modules under the folder's name."""
    spec = importlib.util.spec_from_file_location(folder_name, ENTRY)
    module = importlib.util.module_from_spec(spec)
    sys.modules[folder_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[folder_name]
        raise
    return module


def setUpModule():
    global R
    R = adapter_fixtures.registry()


class NodeDefinition(unittest.TestCase):
    def test_inputs_and_outputs_are_what_comfyui_reads(self):
        os.environ["LIKENESS_REGISTRY"] = "/srv/some-registry"
        types = comfyui.LikenessCheck.INPUT_TYPES()
        req, opt = types["required"], types["optional"]
        self.assertEqual(list(req), ["images", "registry", "on_block", "hash_only"])
        self.assertEqual(req["images"], ("IMAGE",))
        self.assertEqual(req["registry"][0], "STRING")
        self.assertEqual(req["registry"][1]["default"], "/srv/some-registry")
        self.assertEqual(req["on_block"][0], ["black", "pass"])
        self.assertEqual(req["hash_only"][0], "BOOLEAN")
        self.assertEqual(opt["regions"][0], "INT")
        self.assertEqual((opt["regions"][1]["min"], opt["regions"][1]["max"]), (0, 9))
        node = comfyui.LikenessCheck
        self.assertEqual(node.RETURN_TYPES, ("IMAGE", "BOOLEAN", "FLOAT", "STRING"))
        self.assertEqual(len(node.RETURN_NAMES), len(node.RETURN_TYPES))
        self.assertTrue(callable(getattr(node(), node.FUNCTION)))
        self.assertIsInstance(node.CATEGORY, str)
        with self.assertRaisesRegex(ValueError, "on_block"):
            node().check(None, registry=R.path, on_block="blur")

    def test_entry_point_exports_the_mappings(self):
        module = load_as_comfyui("comfyui-likeness")
        self.assertIs(module.NODE_CLASS_MAPPINGS["LikenessCheck"], comfyui.LikenessCheck)
        self.assertIn("LikenessCheck", module.NODE_DISPLAY_NAME_MAPPINGS)

    def test_entry_point_refuses_the_folder_name_likeness(self):
        saved = sys.modules.pop("likeness")
        try:
            with self.assertRaisesRegex(ImportError, "rename"):
                load_as_comfyui("likeness")
        finally:
            sys.modules["likeness"] = saved

    def test_entry_point_finds_the_package_from_the_source_tree(self):
        # A ComfyUI whose Python knows nothing of likeness: only the linked folder.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        code = ("import importlib.util, sys\n"
                f"spec = importlib.util.spec_from_file_location('comfyui-likeness', {ENTRY!r})\n"
                "m = importlib.util.module_from_spec(spec); sys.modules['comfyui-likeness'] = m\n"
                "spec.loader.exec_module(m); print(sorted(m.NODE_CLASS_MAPPINGS))\n")
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), "['LikenessCheck']")


class Check(unittest.TestCase):
    def setUp(self):
        self.node = comfyui.LikenessCheck()

    def run_node(self, images, **kw):
        args = dict(registry=R.path, on_block="black", hash_only=False)
        args.update(kw)
        return getattr(self.node, comfyui.LikenessCheck.FUNCTION)(images, **args)

    def test_blocked_image_is_blanked_in_a_copy_and_the_verdict_names_the_character(self):
        batch = R.batch("unrelated", "reference", "unrelated")
        t = faketorch.FakeTensor(batch.copy())
        out, any_blocked, max_score, text = self.run_node(t)
        self.assertIsInstance(out, faketorch.FakeTensor)
        self.assertIsNot(out, t)
        self.assertEqual(out.device, t.device)
        self.assertEqual(out.dtype, "torch.float32")
        o = out._a
        self.assertTrue(np.all(o[1] == 0))
        np.testing.assert_array_equal(o[0], batch[0])
        np.testing.assert_array_equal(o[2], batch[2])
        np.testing.assert_array_equal(t._a, batch)  # the input, cached by ComfyUI, untouched
        self.assertIs(any_blocked, True)
        self.assertIsInstance(max_score, float)
        self.assertGreater(max_score, 0.9)
        report = json.loads(text)
        self.assertEqual([r["index"] for r in report], [0, 1, 2])
        self.assertEqual([r["verdict"] for r in report], ["allow", "block", "allow"])
        self.assertEqual([r["blanked"] for r in report], [False, True, False])
        self.assertEqual(report[1]["matches"][0]["character"], "sunny")
        self.assertEqual(report[1]["matches"][0]["name"], "Sunny")

    def test_allowed_batch_comes_back_as_the_same_object(self):
        t = faketorch.FakeTensor(R.batch("unrelated", "unrelated"))
        out, any_blocked, max_score, text = self.run_node(t)
        self.assertIs(out, t)
        self.assertNotIn("clone", t.calls)
        self.assertIs(any_blocked, False)
        self.assertLess(max_score, 0.9)
        self.assertEqual([r["verdict"] for r in json.loads(text)], ["allow", "allow"])

    def test_pass_reports_without_blanking(self):
        t = faketorch.FakeTensor(R.batch("reference"))
        out, any_blocked, _, text = self.run_node(t, on_block="pass")
        self.assertIs(out, t)
        self.assertIs(any_blocked, True)
        r = json.loads(text)[0]
        self.assertEqual((r["verdict"], r["blanked"]), ("block", False))

    def test_numpy_batch_gives_a_numpy_copy(self):
        batch = R.batch("reference", "unrelated")
        keep = batch.copy()
        out, any_blocked, _, _ = self.run_node(batch)
        self.assertIsInstance(out, np.ndarray)
        self.assertEqual(out.dtype, np.float32)
        self.assertTrue(np.all(out[0] == 0))
        np.testing.assert_array_equal(out[1], keep[1])
        np.testing.assert_array_equal(batch, keep)

    def test_half_precision_tensor(self):
        t = faketorch.FakeTensor(R.batch("unrelated", "reference").astype(np.float16))
        out, any_blocked, _, text = self.run_node(t)
        self.assertEqual([r["verdict"] for r in json.loads(text)], ["allow", "block"])
        self.assertEqual(out.dtype, "torch.float16")
        self.assertTrue(np.all(out._a[1] == 0))

    def test_hash_only_and_regions(self):
        t = faketorch.FakeTensor(R.batch("reference"))
        _, any_blocked, _, text = self.run_node(t, hash_only=True)
        r = json.loads(text)[0]
        self.assertTrue(any_blocked)
        self.assertEqual(r["signals"], ["pdq"])
        _, any_blocked, _, _ = self.run_node(t, regions=2)
        self.assertTrue(any_blocked)

    def test_empty_registry_input_falls_back_to_the_environment(self):
        os.environ["LIKENESS_REGISTRY"] = R.path
        _, any_blocked, _, _ = self.run_node(R.batch("reference"), registry="")
        self.assertTrue(any_blocked)
        del os.environ["LIKENESS_REGISTRY"]
        with self.assertRaisesRegex(ValueError, "LIKENESS_REGISTRY"):
            self.run_node(R.batch("reference"), registry="")

    def test_bad_registry_path_is_a_clear_error(self):
        missing = os.path.join(R.dir, "no-such-registry")
        with self.assertRaises(FileNotFoundError) as cm:
            self.run_node(R.batch("reference"), registry=missing)
        self.assertIn(missing, str(cm.exception))
        with self.assertRaises(likeness.LikenessError) as cm:
            self.run_node(R.batch("reference"), registry=R.dir)  # a folder, not a registry
        self.assertTrue(cm.exception.name.startswith("LK_E"))

    def test_registry_is_opened_once_per_path(self):
        a = _common.open_registry(R.path)
        self.assertIs(_common.open_registry(R.path + os.sep), a)


class Takedown(unittest.TestCase):
    def test_disabling_the_character_changes_is_changed_and_the_verdict(self):
        fresh = adapter_fixtures.Registry()
        node = comfyui.LikenessCheck()
        t = faketorch.FakeTensor(R.batch("reference"))
        before = comfyui.LikenessCheck.IS_CHANGED(registry=fresh.path, images=None)
        self.assertEqual(comfyui.LikenessCheck.IS_CHANGED(registry=fresh.path), before)
        self.assertTrue(node.check(t, fresh.path, "black", False)[1])
        subprocess.run([adapter_fixtures.CLI, "character", "disable", "sunny", "-r", fresh.path],
                       check=True, capture_output=True)
        self.assertNotEqual(comfyui.LikenessCheck.IS_CHANGED(registry=fresh.path), before)
        out, any_blocked, _, _ = node.check(t, fresh.path, "black", False)
        self.assertFalse(any_blocked)
        self.assertIs(out, t)

    def test_is_changed_on_a_missing_registry_forces_a_run(self):
        v = comfyui.LikenessCheck.IS_CHANGED(registry="/nonexistent/registry")
        self.assertNotEqual(v, v)


if __name__ == "__main__":
    unittest.main()
