"""Tests of the Python binding (bindings/python/likeness), run by Debian's python3 with numpy.

ctest passes: LIKENESS_LIBRARY (the built liblikeness), PYTHONPATH (bindings/python),
LIKENESS_MODELS, LK_CLI_PATH (the likeness program, which builds the registries here and is the
reference for results), LK_ABI_LAYOUT (tests/python/abi_layout.c), LK_SOURCE_DIR, LK_CMAKE.
The art is the project's own demo mascots (demo/characters), rendered by libvips' `vips`.
"""
import ctypes
import io
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from unittest import mock

import numpy as np
from PIL import Image

import likeness
from likeness import _lib, _pixels

CLI = os.environ.get("LK_CLI_PATH", "")
SOURCE = os.environ.get("LK_SOURCE_DIR", str(pathlib.Path(__file__).resolve().parents[2]))


def native_env():
    """The environment for programs that are not Python: in the sanitizer build LD_PRELOAD
    holds the ASan runtime for the interpreter's sake, and an uninstrumented program such as
    `vips` hangs with it preloaded (the likeness program links the runtime itself)."""
    return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}


def run_cli(*args, ok=(0,)):
    p = subprocess.run([CLI, *args], capture_output=True, text=True, env=native_env())
    if p.returncode not in ok:
        raise AssertionError(f"likeness {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p.stdout


def render(svg, png):
    vips = shutil.which("vips")
    if not vips:
        raise AssertionError("the `vips` program (libvips-tools) renders the test art; scripts/setup.sh installs it")
    subprocess.run([vips, "copy", svg, png], check=True, env=native_env())


def comparable(d):
    """A result dict without what differs between two runs of the same check."""
    d = dict(d)
    for k in ("timings_ms", "path", "blocked", "flagged", "score"):
        d.pop(k, None)
    return d


class Fixture(unittest.TestCase):
    """One registry holding the mascot "bolt" (one reference, with its embedding); "sunny" is
    unrelated art."""

    @classmethod
    def setUpClass(cls):
        if not CLI:
            raise AssertionError("LK_CLI_PATH must name the likeness program")
        cls.tmp = tempfile.mkdtemp(prefix="likeness-py-")
        cls.bolt = os.path.join(cls.tmp, "bolt.png")
        cls.sunny = os.path.join(cls.tmp, "sunny.png")
        render(os.path.join(SOURCE, "demo/characters/bolt.svg"), cls.bolt)
        render(os.path.join(SOURCE, "demo/characters/sunny.svg"), cls.sunny)
        cls.dir = os.path.join(cls.tmp, "registry")
        run_cli("init", cls.dir)
        run_cli("character", "add", "bolt", "--name", "Bolt", "-r", cls.dir)
        run_cli("ref", "add", "bolt", cls.bolt, "-r", cls.dir)
        cls.reg = likeness.Registry(cls.dir)
        # PIL reads the PNG as vips wrote it: RGBA, opaque.
        cls.rgba = np.asarray(Image.open(cls.bolt))
        cls.rgb = np.ascontiguousarray(cls.rgba[:, :, :3])
        cls.other = np.asarray(Image.open(cls.sunny).convert("RGB"))

    @classmethod
    def tearDownClass(cls):
        cls.reg.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def assertCopy(self, r, transform="original"):
        self.assertEqual(r.verdict, "block", r.reason)
        self.assertTrue(r.blocked and r.flagged)
        self.assertEqual(r.reason_code, "copy")
        self.assertEqual(r.matches[0].character, "bolt")
        self.assertEqual(r.matches[0].transform, transform)
        self.assertLessEqual(r.matches[0].distance, 8)

    def assertUnrelated(self, r):
        self.assertEqual(r.verdict, "allow", r.reason)
        self.assertFalse(r.blocked or r.flagged)
        self.assertEqual(r.matches, [])
        self.assertEqual(r.score, 0.0)


class TestAbi(unittest.TestCase):
    def setUp(self):
        exe = os.environ.get("LK_ABI_LAYOUT")
        if not exe:
            raise AssertionError("LK_ABI_LAYOUT must name the abi_layout program")
        self.c = json.loads(subprocess.run([exe], check=True, capture_output=True, text=True).stdout)

    def test_struct_layouts_match_the_compiler(self):
        self.assertEqual(set(self.c["structs"]), set(_lib.MIRRORS))
        for name, mirror in _lib.MIRRORS.items():
            c = self.c["structs"][name]
            with self.subTest(struct=name):
                self.assertEqual(ctypes.sizeof(mirror), c["size"])
                self.assertEqual([f[0] for f in mirror._fields_], list(c["fields"]), "fields and their order")
                for field, (offset, size) in c["fields"].items():
                    self.assertEqual((getattr(mirror, field).offset, getattr(mirror, field).size), (offset, size),
                                     f"{name}.{field}")
                self.assertEqual(ctypes.alignment(mirror), max(ctypes.alignment(t) for _, t in mirror._fields_))

    def test_options_defaults_are_the_init_macros(self):
        want = self.c["check_options_init"]
        o = _lib.check_options()
        got = {"version": o.version, "hash_only": o.hash_only, "regions": o.regions,
               "ingest": {"version": o.ingest.version, "max_bytes": o.ingest.max_bytes,
                          "max_pixels": o.ingest.max_pixels, "max_side": o.ingest.max_side,
                          "background": list(o.ingest.background), "allow_svg": o.ingest.allow_svg}}
        self.assertEqual(got, want)

    def test_constants_are_the_header_values(self):
        for name, value in self.c["constants"].items():
            self.assertEqual(getattr(_lib, name), value, name)

    def test_calls_release_the_gil(self):
        # ctypes drops the GIL around calls through CDLL, not through PyDLL.
        self.assertIsInstance(_lib.lib, ctypes.CDLL)
        self.assertNotIsInstance(_lib.lib, ctypes.PyDLL)


class TestLoading(unittest.TestCase):
    def test_version_is_the_programs(self):
        self.assertEqual(run_cli("version").split(), ["likeness", likeness.version()])

    def test_a_wrong_library_path_is_named(self):
        env = dict(os.environ, LIKENESS_LIBRARY="/nonexistent/liblikeness.so.0")
        p = subprocess.run([sys.executable, "-c", "import likeness"], env=env, capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ImportError", p.stderr)
        self.assertIn("/nonexistent/liblikeness.so.0", p.stderr)
        self.assertIn("LIKENESS_LIBRARY", p.stderr)

    def test_installed_package_loads_the_installed_library(self):
        cmake = os.environ.get("LK_CMAKE") or shutil.which("cmake")
        build = os.path.dirname(os.environ["LIKENESS_LIBRARY"])
        with tempfile.TemporaryDirectory() as prefix:
            subprocess.run([cmake, "--install", build, "--prefix", prefix], check=True, capture_output=True)
            env = {k: v for k, v in os.environ.items() if k not in ("LIKENESS_LIBRARY", "LD_LIBRARY_PATH")}
            env["PYTHONPATH"] = os.path.join(prefix, "lib/python3/dist-packages")
            code = ("import likeness, os; print(likeness.version()); print(likeness.__file__); "
                    "print(os.path.realpath(likeness._lib.lib._name))")
            p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=prefix)
            self.assertEqual(p.returncode, 0, p.stderr)
            version, package, library = p.stdout.split("\n")[:3]
            self.assertEqual(version, likeness.version())
            self.assertTrue(package.startswith(os.path.realpath(prefix)) or package.startswith(prefix), package)
            self.assertEqual(library, os.path.realpath(os.path.join(prefix, "lib", "liblikeness.so.0")))
            # The installed program finds its own library too.
            env.pop("LD_PRELOAD", None)
            p = subprocess.run([os.path.join(prefix, "bin", "likeness"), "version"], env=env, capture_output=True,
                               text=True)
            self.assertEqual(p.stdout.split(), ["likeness", likeness.version()], p.stderr)
            self.assertTrue(os.path.exists(os.path.join(prefix, "include", "likeness.h")))


class TestCheck(Fixture):
    def test_a_copy_blocks_in_every_form(self):
        forms = {
            "rgba uint8": self.rgba,
            "rgb uint8": self.rgb,
            "gray uint8": np.asarray(Image.open(self.bolt).convert("L")),
            "rgb float32": self.rgb.astype(np.float32) / 255,
            "rgb float64": self.rgb / 255.0,
            "pil image": Image.open(self.bolt),
            "pil palette": Image.open(self.bolt).convert("RGB").convert("P"),
            "bytes": pathlib.Path(self.bolt).read_bytes(),
            "bytearray": bytearray(pathlib.Path(self.bolt).read_bytes()),
            "memoryview": memoryview(pathlib.Path(self.bolt).read_bytes()),
            "str path": self.bolt,
            "pathlib path": pathlib.Path(self.bolt),
        }
        for name, image in forms.items():
            with self.subTest(form=name):
                self.assertCopy(self.reg.check(image))

    def test_views_of_a_larger_buffer_block(self):
        h, w, _ = self.rgb.shape
        canvas = np.zeros((h + 40, w + 60, 3), np.uint8)
        canvas[10:10 + h, 20:20 + w] = self.rgb
        crop = canvas[10:10 + h, 20:20 + w]
        self.assertGreater(crop.strides[0], w * 3)
        self.assertCopy(self.reg.check(crop))
        fcanvas = np.zeros((h + 4, w + 8, 3), np.float32)
        fcanvas[2:2 + h, 4:4 + w] = self.rgb / np.float32(255)
        self.assertCopy(self.reg.check(fcanvas[2:2 + h, 4:4 + w]))

    def test_a_flipped_view_is_the_mirrored_copy(self):
        flipped = self.rgb[::-1]
        self.assertLess(flipped.strides[0], 0)
        r = self.reg.check(flipped)
        self.assertCopy(r, transform="flipx")
        self.assertEqual(r.hash, self.reg.check(np.ascontiguousarray(flipped)).hash)
        self.assertNotEqual(r.hash, self.reg.check(self.rgb).hash)

    def test_unrelated_art_is_allowed(self):
        for image in (self.other, self.sunny, self.other.astype(np.float32) / 255):
            self.assertUnrelated(self.reg.check(image))

    def test_result_fields(self):
        r = self.reg.check(self.rgb)
        self.assertEqual(r.signals, ["pdq", "embedding"])
        self.assertEqual(r.score, 1.0)
        self.assertEqual(r.quality, 100)
        self.assertEqual(len(r.hash), 64)
        self.assertEqual(r.source, {"width": 512, "height": 512, "format": "raw-rgb8"})
        self.assertEqual(r.registry_version, self.reg.version)
        self.assertEqual(set(r.timings_ms), {"decode", "hash", "embed", "search", "total"})
        self.assertGreater(r.timings_ms["embed"], 0)
        m = r.matches[0]
        self.assertEqual((m.character, m.character_name, m.distance), ("bolt", "Bolt", 0))
        self.assertEqual(m.signals, ["pdq", "embedding"])
        self.assertGreater(m.similarity, 0.9)
        self.assertEqual((m.verdict, m.reason, m.allow, m.region), ("block", "copy", False, None))
        self.assertEqual(json.loads(r.to_json()), r.to_dict())
        # The character model names the character too (a copy keeps its own reason).
        c = r.character
        self.assertIsNotNone(c)
        self.assertEqual((c.character, c.character_name, c.franchise), ("bolt", "Bolt", "bolt"))
        self.assertEqual(c.nearest[0][0], m.reference_id)
        self.assertGreater(c.bank_pictures, 0, "the default bank (scripts/prepare-bank.sh)")
        self.assertEqual(r.to_dict()["character"]["character"], "bolt")
        h = self.reg.check(self.rgb, hash_only=True)
        self.assertEqual(h.signals, ["pdq"])
        self.assertIsNone(h.character)
        self.assertIsNone(h.matches[0].similarity)
        self.assertLess(h.timings_ms["embed"], 1.0)  # no CNN pass: well under its ~20 ms

    def test_region_search_reports_its_windows(self):
        r = self.reg.check(self.rgb, regions=3)
        self.assertIn("region", r.signals)
        self.assertEqual(len(r.regions), 3)
        for g in r.regions:
            self.assertEqual(set(g), {"x", "y", "width", "height"})
            self.assertAlmostEqual(g["width"], 0.5, places=3)
        self.assertEqual(len(r.to_dict()["regions"]), 3)

    def test_uint8_and_float_give_the_same_hash(self):
        want = self.reg.check(self.rgb, hash_only=True).hash
        for image in (self.rgb.astype(np.float32) / 255, self.rgb / 255.0, (self.rgb / 255.0).astype(np.float16)):
            with self.subTest(dtype=str(image.dtype)):
                self.assertEqual(self.reg.check(image, hash_only=True).hash, want)
        gray = np.asarray(Image.open(self.bolt).convert("L"))
        gwant = self.reg.check(gray, hash_only=True).hash
        self.assertEqual(self.reg.check(gray.astype(np.float32) / 255, hash_only=True).hash, gwant)
        self.assertEqual(self.reg.check(gray[:, :, None], hash_only=True).hash, gwant)
        self.assertEqual(self.reg.check(self.rgba.astype(np.float32) / 255, hash_only=True).hash,
                         self.reg.check(self.rgba, hash_only=True).hash)

    def test_equals_the_likeness_program(self):
        for path in (self.bolt, self.sunny):
            for hash_only in (False, True):
                with self.subTest(path=os.path.basename(path), hash_only=hash_only):
                    args = ["check", "--json", "-r", self.dir, path] + (["--hash-only"] if hash_only else [])
                    want = json.loads(run_cli(*args, ok=(0, 1)))
                    got = self.reg.check(path, hash_only=hash_only).to_dict()
                    self.assertEqual(comparable(got), comparable(want))
                    # The same pixels lent as an array decide alike (source says "raw" then).
                    arr = self.reg.check(np.asarray(Image.open(path)), hash_only=hash_only).to_dict()
                    arr["source"] = want["source"]
                    self.assertEqual(comparable(arr), comparable(want))


class TestZeroCopy(Fixture):
    def lent(self, a):
        """Checks `a` with every copying function of numpy made to fail, and returns the view."""
        before = _pixels.copies
        boom = mock.Mock(side_effect=AssertionError("copied"))
        with mock.patch.object(np, "ascontiguousarray", boom), mock.patch.object(np, "array", boom), \
                mock.patch.object(np, "rint", boom):
            view, owner = _pixels.pixel_view(a)
            r = self.reg.check(a, hash_only=True)
        self.assertIs(owner, a)
        self.assertEqual(view.data, a.__array_interface__["data"][0])
        self.assertEqual(view.stride, a.strides[0])
        self.assertEqual(_pixels.copies, before)
        return view, r

    def test_interleaved_layouts_are_lent_not_copied(self):
        h, w, _ = self.rgb.shape
        canvas = np.zeros((h + 40, w + 60, 4), np.uint8)
        canvas[10:10 + h, 20:20 + w] = self.rgba
        cases = {
            "rgb": (self.rgb, _lib.LK_PIXEL_RGB8),
            "rgba": (self.rgba, _lib.LK_PIXEL_RGBA8),
            "rgba crop": (canvas[10:10 + h, 20:20 + w], _lib.LK_PIXEL_RGBA8),
            "flipped": (self.rgb[::-1], _lib.LK_PIXEL_RGB8),
            "gray": (np.ascontiguousarray(self.rgb[:, :, 1]), _lib.LK_PIXEL_GRAY8),
            "float32": (self.rgb.astype(np.float32) / 255, _lib.LK_PIXEL_RGBF32),
            "float32 flipped": ((self.rgb.astype(np.float32) / 255)[::-1], _lib.LK_PIXEL_RGBF32),
            "read-only": (np.frombuffer(self.rgb.tobytes(), np.uint8).reshape(self.rgb.shape), _lib.LK_PIXEL_RGB8),
        }
        for name, (a, fmt) in cases.items():
            with self.subTest(layout=name):
                view, r = self.lent(a)
                self.assertEqual(view.format, fmt)
                self.assertEqual((view.width, view.height), (a.shape[1], a.shape[0]))
                if name != "gray":
                    self.assertEqual(r.verdict, "block")

    def test_a_batch_array_lends_each_image(self):
        batch = np.stack([self.rgb, self.other, self.rgb[::-1]])
        before = _pixels.copies
        with mock.patch.object(np, "ascontiguousarray", mock.Mock(side_effect=AssertionError("copied"))):
            rs = self.reg.check_batch(batch, hash_only=True, threads=2)
        self.assertEqual(_pixels.copies, before)
        self.assertEqual([r.verdict for r in rs], ["block", "allow", "block"])

    def test_other_layouts_are_copied_once_and_decide_alike(self):
        every_other = self.rgb[:, ::2]
        chw_back = np.transpose(np.ascontiguousarray(np.transpose(self.rgb, (2, 0, 1))), (1, 2, 0))
        for name, a in {"every other column": every_other, "CHW transposed back": chw_back}.items():
            with self.subTest(layout=name):
                before = _pixels.copies
                view, owner = _pixels.pixel_view(a)
                self.assertEqual(_pixels.copies, before + 1)
                self.assertIsNot(owner, a)
                self.assertFalse(np.shares_memory(owner, a))
                self.assertEqual(self.reg.check(a, hash_only=True).hash,
                                 self.reg.check(np.ascontiguousarray(a), hash_only=True).hash)


class TestBatch(Fixture):
    def images(self):
        return [self.rgb, self.other, self.rgb[::-1], pathlib.Path(self.bolt).read_bytes(), self.sunny,
                self.rgb.astype(np.float32) / 255]

    def test_batch_equals_single_calls_in_order(self):
        images = self.images()
        single = [comparable(self.reg.check(i).to_dict()) for i in images]
        self.assertEqual([s["verdict"] for s in single], ["block", "allow", "block", "block", "allow", "block"])
        for threads in (1, 2, 4, None):
            with self.subTest(threads=threads):
                got = self.reg.check_batch(images, threads=threads)
                self.assertEqual([comparable(r.to_dict()) for r in got], single)
        stacked = np.stack([self.rgb, self.other, self.rgb[::-1]])
        self.assertEqual([comparable(r.to_dict()) for r in self.reg.check_batch(stacked)], single[:3])
        self.assertEqual(self.reg.check_batch([]), [])

    def test_errors_return_puts_each_failure_in_its_place(self):
        images = [self.rgb, b"this is no image", self.other, np.zeros((4, 4, 5), np.uint8)]
        rs = self.reg.check_batch(images, errors="return", threads=2)
        self.assertEqual(len(rs), 4)
        self.assertEqual(rs[0].verdict, "block")
        self.assertIsInstance(rs[1], likeness.LikenessError)
        self.assertEqual(rs[1].name, "LK_ENOTIMAGE")
        self.assertEqual(rs[2].verdict, "allow")
        self.assertIsInstance(rs[3], likeness.LikenessError)
        self.assertEqual(rs[3].name, "LK_EINVAL")
        with self.assertRaises(likeness.LikenessError) as e:
            self.reg.check_batch(images, errors="raise", threads=2)
        self.assertEqual(e.exception.name, "LK_ENOTIMAGE")
        with self.assertRaises(ValueError):
            self.reg.check_batch(images, errors="ignore")


class TestBadInput(Fixture):
    def refused(self, image, name, **kwargs):
        with self.assertRaises(likeness.LikenessError) as e:
            self.reg.check(image, **kwargs)
        err = e.exception
        self.assertEqual(err.name, name)
        self.assertEqual(err.code, {"LK_EINVAL": -1, "LK_EEMPTY": -4, "LK_ENOTIMAGE": -5, "LK_EIO": -3,
                                    "LK_ENOTFOUND": -15}[name])
        self.assertTrue(err.detail, "a detail says what was wrong")
        self.assertIn(name, str(err))
        self.assertIn(err.detail, str(err))
        return err

    def test_arrays_that_are_no_image(self):
        self.assertIn("complex", self.refused(np.zeros((8, 8, 3), np.complex64), "LK_EINVAL").detail)
        self.assertIn("5", self.refused(np.zeros((8, 8, 5), np.uint8), "LK_EINVAL").detail)
        self.assertIn("empty", self.refused(np.zeros((0, 8, 3), np.uint8), "LK_EINVAL").detail)
        self.assertIn("empty", self.refused(np.zeros((8, 0), np.uint8), "LK_EINVAL").detail)
        self.refused(np.zeros(64, np.uint8), "LK_EINVAL")
        self.refused(np.zeros((2, 8, 8, 3), np.uint8), "LK_EINVAL")
        self.refused(np.zeros((8, 8, 3), np.int16), "LK_EINVAL")
        self.refused(np.zeros((8, 8, 3), bool), "LK_EINVAL")
        self.refused(42, "LK_EINVAL")
        self.refused(self.rgb, "LK_EINVAL", regions=99)

    def test_bytes_and_files_that_are_no_image(self):
        err = self.refused(b"GIF? no, just text that is not an image", "LK_ENOTIMAGE")
        self.assertEqual(err.message, likeness.strerror(-5))
        self.refused(b"", "LK_EEMPTY")
        missing = os.path.join(self.tmp, "missing.png")
        with self.assertRaises(likeness.LikenessError) as e:
            self.reg.check(missing)
        self.assertIn("missing.png", e.exception.detail)

    def test_the_error_pickles(self):
        import pickle
        e = pickle.loads(pickle.dumps(likeness.LikenessError(-5, "x.png: no")))
        self.assertEqual((e.code, e.name, e.detail), (-5, "LK_ENOTIMAGE", "x.png: no"))


class TestRegistry(Fixture):
    def test_info_and_version(self):
        info = self.reg.info()
        self.assertEqual((info["characters"], info["enabled_characters"]), (1, 1))
        self.assertEqual((info["references"], info["embedded_references"]), (1, 1))
        self.assertEqual(info["embedder"], self.reg.embedder_id)
        self.assertEqual(info["version"], self.reg.version)
        self.assertAlmostEqual(info["embed_copy"], 0.90, places=6)
        self.assertFalse(info["calibrated"])
        stats = run_cli("stats", "-r", self.dir)
        self.assertIn(f"version: {info['version']}\n", stats)
        self.assertIn(f"embedder: {info['embedder']}\n", stats)

    def test_a_change_by_another_process_is_seen_at_the_next_check(self):
        with tempfile.TemporaryDirectory() as d:
            reg_dir = os.path.join(d, "r")
            run_cli("init", reg_dir)
            run_cli("character", "add", "sunny", "--name", "Sunny", "-r", reg_dir)
            run_cli("ref", "add", "--hash-only", "sunny", self.sunny, "-r", reg_dir)
            with likeness.Registry(reg_dir, embedding=False) as reg:
                self.assertIsNone(reg.embedder_id)
                v = reg.version
                self.assertTrue(reg.check(self.other).blocked)
                run_cli("character", "remove", "sunny", "-r", reg_dir)
                self.assertGreater(reg.version, v)
                r = reg.check(self.other)
                self.assertEqual(r.verdict, "allow")
                self.assertEqual(r.registry_version, reg.version)

    def test_lifetime(self):
        with likeness.Registry(self.dir, embedding=False) as reg:
            self.assertEqual(reg.check(self.rgb).signals, ["pdq"])
        self.assertTrue(reg.closed)
        reg.close()  # twice is fine
        with self.assertRaises(likeness.LikenessError) as e:
            reg.check(self.rgb)
        self.assertIn("closed", e.exception.detail)
        with self.assertRaises(likeness.LikenessError):
            reg.info()

    def test_path_from_the_environment(self):
        with mock.patch.dict(os.environ, {"LIKENESS_REGISTRY": self.dir}):
            with likeness.Registry(embedding=False) as reg:
                self.assertTrue(reg.check(self.rgb).blocked)
        env = {k: v for k, v in os.environ.items() if k != "LIKENESS_REGISTRY"}
        with mock.patch.dict(os.environ, env, clear=True):
            with self.assertRaises(likeness.LikenessError) as e:
                likeness.Registry()
            self.assertIn("LIKENESS_REGISTRY", e.exception.detail)

    def test_what_cannot_open_is_an_error(self):
        with self.assertRaises(likeness.LikenessError) as e:
            likeness.Registry(os.path.join(self.tmp, "no-such-registry"), embedding=False)
        self.assertEqual(e.exception.name, "LK_ENOTFOUND")
        with self.assertRaises(likeness.LikenessError) as e:
            likeness.Registry(self.dir, models=os.path.join(self.tmp, "no-models"))
        self.assertEqual(e.exception.name, "LK_ENOTFOUND")
        self.assertIn("no-models", e.exception.detail)


class TestThreads(Fixture):
    def test_many_threads_share_one_registry(self):
        images = [self.rgb, self.other, self.rgb[::-1], self.rgb.astype(np.float32) / 255]
        want = [r.verdict for r in (self.reg.check(i, hash_only=True) for i in images)]
        failures = []

        def work(k):
            try:
                for i in range(6):
                    r = self.reg.check(images[(i + k) % 4])
                    if r.verdict != want[(i + k) % 4]:
                        failures.append((k, i, r.verdict))
            except Exception as e:  # noqa: BLE001 - reported below, with its thread
                failures.append((k, repr(e)))

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(failures, [])

    def test_python_threads_run_while_a_check_is_in_c(self):
        # A thread spinning in Python notes the longest it ever waited between two turns of its
        # loop. Were the GIL held through the C call, that wait would be the whole call; with it
        # released, only the GIL's hand-overs before and after (a few ms) remain. Wall-clock
        # spans of the checks themselves cannot tell: a thread's end time waits for the GIL too.
        self.reg.check(self.rgb, regions=9)  # warm
        stop, worst = threading.Event(), []

        def spin():
            last, longest = time.perf_counter(), 0.0
            while not stop.is_set():
                now = time.perf_counter()
                longest = max(longest, now - last)
                last = now
            worst.append(longest)

        t = threading.Thread(target=spin)
        t.start()
        time.sleep(0.02)
        r = self.reg.check(self.rgb, regions=9)
        stop.set()
        t.join()
        in_c = r.timings_ms["total"] / 1000.0
        self.assertGreater(in_c, 0.05, "the check should be long enough to tell")
        self.assertLess(worst[0], in_c / 2, f"the spinning thread waited {worst[0] * 1000:.0f} ms "
                        f"during a {in_c * 1000:.0f} ms check")

    def test_close_waits_for_running_checks(self):
        reg = likeness.Registry(self.dir)
        done = []
        t = threading.Thread(target=lambda: done.append(reg.check_batch([self.rgb] * 6, threads=2)))
        t.start()
        while not reg._running and t.is_alive():
            time.sleep(0.001)
        reg.close()
        t.join()
        self.assertEqual(len(done), 1, "the batch finished instead of failing on a closed registry")
        self.assertTrue(all(r.blocked for r in done[0]))


if __name__ == "__main__":
    unittest.main()
