"""The diffusers safety_checker (likeness.adapters.diffusers) inside stand-ins for diffusers'
pipelines (stubs/fake_diffusers.py), with faketorch tensors in place of torch."""
import logging
import os
import threading
import unittest

import numpy as np
from PIL import Image

import adapter_fixtures
import fake_diffusers
import faketorch
from likeness.adapters import _common
from likeness.adapters.diffusers import LikenessSafetyChecker, NoFeatureExtractor


def setUpModule():
    global R
    R = adapter_fixtures.registry()
    # Keeps the expected warnings off the test output; assertLogs still sees them.
    logging.getLogger("likeness.adapters.diffusers").addHandler(logging.NullHandler())


def decoded(batch, dtype=np.float16):
    """What the VAE hands run_safety_checker: NCHW in -1..1, on the GPU, in the pipeline's dtype."""
    return faketorch.FakeTensor((batch.transpose(0, 3, 1, 2) * 2 - 1).astype(dtype), "cuda:0")


def hamming(a, b):
    return bin(int(a, 16) ^ int(b, 16)).count("1")


class CurrentPipeline(unittest.TestCase):
    def test_reference_is_blacked_out_and_the_result_names_the_character(self):
        checker = LikenessSafetyChecker(R.path)
        pipe = checker.install(fake_diffusers.Pipeline())
        self.assertIs(pipe.safety_checker, checker)
        self.assertIsInstance(pipe.feature_extractor, NoFeatureExtractor)
        batch = R.batch("unrelated", "reference", "unrelated")
        images, flags = pipe.finish(decoded(batch), output_type="pil")
        self.assertEqual(flags, [False, True, False])
        self.assertTrue(all(type(f) is bool for f in flags))
        self.assertEqual(len(images), 3)
        self.assertEqual(np.asarray(images[1]).max(), 0)  # black, as the pipeline saves it
        for i in (0, 2):  # through float16 and back: within one level of the original
            diff = np.abs(np.asarray(images[i], np.int16) - np.asarray(R.unrelated, np.int16))
            self.assertLessEqual(diff.max(), 1)
        results = checker.last_results
        self.assertEqual([r.verdict for r in results], ["allow", "block", "allow"])
        self.assertEqual(results[1].matches[0].character, "sunny")
        self.assertEqual(results[1].matches[0].character_name, "Sunny")

    def test_minus_one_to_one_is_read_as_the_original_pixels(self):
        checker = LikenessSafetyChecker(R.path)
        t = decoded(R.batch("reference", "unrelated"), np.float32)
        checker(images=t, clip_input=None)
        direct = _common.open_registry(R.path)
        for got, img in zip(checker.last_results, (R.reference, R.unrelated)):
            want = direct.check(np.asarray(img))
            self.assertEqual(hamming(got.hash, want.hash), 0)
        # The same pixels read as if they were 0..1 hash differently (10 and 34 bits): the
        # comparison above can tell a wrong conversion.
        wrong = LikenessSafetyChecker(R.path, tensor_range=(0.0, 1.0))
        wrong(images=decoded(R.batch("reference", "unrelated"), np.float32), clip_input=None)
        for got, img in zip(wrong.last_results, (R.reference, R.unrelated)):
            self.assertGreater(hamming(got.hash, direct.check(np.asarray(img)).hash), 4)

    def test_flagged_tensor_is_zeroed_in_place_like_the_stable_diffusion_checker(self):
        checker = LikenessSafetyChecker(R.path)
        t = decoded(R.batch("reference", "unrelated"))
        keep = t._a.copy()
        out, flags = checker(t, None)
        self.assertIs(out, t)
        self.assertEqual(flags, [True, False])
        self.assertTrue(np.all(t._a[0] == 0))
        self.assertEqual(t._a.dtype, np.float16)
        np.testing.assert_array_equal(t._a[1], keep[1])

    def test_an_existing_feature_extractor_is_kept(self):
        fe = fake_diffusers.CLIPFeatureExtractor()
        checker = LikenessSafetyChecker(R.path)
        pipe = checker.install(fake_diffusers.Pipeline(feature_extractor=fe))
        self.assertIs(pipe.feature_extractor, fe)
        _, flags = pipe.finish(decoded(R.batch("reference")), output_type="np")
        self.assertEqual((flags, fe.calls), ([True], 1))

    def test_without_a_checker_nothing_is_flagged(self):
        images, flags = fake_diffusers.Pipeline().finish(decoded(R.batch("reference")))
        self.assertIsNone(flags)
        self.assertGreater(np.asarray(images[0]).max(), 0)

    def test_nhwc_tensor_is_refused(self):
        checker = LikenessSafetyChecker(R.path)
        with self.assertRaisesRegex(ValueError, "NCHW"):
            checker(faketorch.FakeTensor(R.batch("reference"), "cpu"), None)


class OlderPipelinesAndDirectCalls(unittest.TestCase):
    def test_legacy_numpy_nhwc(self):
        checker = LikenessSafetyChecker(R.path)
        pipe = checker.install(fake_diffusers.LegacyPipeline())
        batch = R.batch("reference", "unrelated")
        keep = batch.copy()
        out, flags = checker(batch, None)
        self.assertIs(out, batch)
        self.assertEqual(flags, [True, False])
        self.assertTrue(np.all(batch[0] == 0))
        np.testing.assert_array_equal(batch[1], keep[1])
        images, flags = pipe.finish(keep, output_type="pil")
        self.assertEqual(flags, [True, False])
        self.assertEqual(np.asarray(images[0]).max(), 0)

    def test_list_of_pil(self):
        checker = LikenessSafetyChecker(R.path)
        rgba = R.reference.convert("RGBA")
        images = [R.unrelated, rgba, R.unrelated]
        out, flags = checker(images, clip_input=None)
        self.assertIs(out, images)
        self.assertEqual(flags, [False, True, False])
        self.assertIs(out[0], R.unrelated)
        self.assertIs(out[2], R.unrelated)
        self.assertIsInstance(out[1], Image.Image)
        self.assertEqual((out[1].mode, out[1].size), (rgba.mode, rgba.size))
        self.assertEqual(np.asarray(out[1]).max(), 0)

    def test_flagged_images_are_logged_with_the_character(self):
        checker = LikenessSafetyChecker(R.path)
        with self.assertLogs("likeness.adapters.diffusers", "WARNING") as cm:
            checker([R.unrelated, R.reference], None)
        self.assertIn("1 of 2", cm.output[0])
        self.assertIn("sunny", cm.output[0])

    def test_a_character_decision_is_summarised_by_its_character(self):
        from types import SimpleNamespace
        from likeness.adapters._common import summary
        match = SimpleNamespace(character="sunny", character_name="Sunny", distance=None, similarity=0.41)
        decision = SimpleNamespace(character="bolt", character_name="Bolt", franchise="demo", score=0.6123,
                                   false_positive_rate=0.002)
        flagged = SimpleNamespace(verdict="review", reason_code="character", score=0.41, matches=[match],
                                  registry_version=7, character=decision)
        self.assertEqual(summary(flagged), {"verdict": "review", "reason": "character", "score": 0.41,
                                            "character": "bolt", "name": "Bolt", "franchise": "demo",
                                            "character_score": 0.612, "false_positive_rate": 0.002,
                                            "registry_version": 7})
        similar = SimpleNamespace(verdict="review", reason_code="similar", score=0.41, matches=[match],
                                  registry_version=7, character=decision)
        self.assertEqual(summary(similar)["character"], "sunny", "a match decided: its character")

    def test_on_result_and_an_open_registry(self):
        seen = []
        reg = _common.open_registry(R.path)
        checker = LikenessSafetyChecker(reg, on_result=lambda results, flags: seen.append((results, flags)))
        self.assertIs(checker.registry, reg)
        checker([R.reference], None)
        self.assertEqual(len(seen), 1)
        self.assertEqual(seen[0][1], [True])
        self.assertEqual(seen[0][0][0].verdict, "block")

    def test_last_results_are_per_thread(self):
        checker = LikenessSafetyChecker(R.path)
        self.assertEqual(checker.last_results, [])
        checker([R.reference], None)
        other = []
        th = threading.Thread(target=lambda: (checker([R.unrelated, R.unrelated], None),
                                              other.append(checker.last_results)))
        th.start()
        th.join()
        self.assertEqual([r.verdict for r in other[0]], ["allow", "allow"])
        self.assertEqual([r.verdict for r in checker.last_results], ["block"])

    def test_block_on_review_and_bad_settings(self):
        LikenessSafetyChecker(R.path, block_on=("block", "review"))
        with self.assertRaises(ValueError):
            LikenessSafetyChecker(R.path, block_on=("nsfw",))
        with self.assertRaises(ValueError):
            LikenessSafetyChecker(R.path, tensor_range=(1, -1))

    def test_bad_registry_path_is_a_clear_error(self):
        missing = os.path.join(R.dir, "missing")
        with self.assertRaises(FileNotFoundError) as cm:
            LikenessSafetyChecker(missing)
        self.assertIn(missing, str(cm.exception))


if __name__ == "__main__":
    unittest.main()
