#!/usr/bin/python3
"""What the Python binding adds to a check: the per-image cost of reg.check() against the same
lk_check_* call made from C (bench/bench_binding_c.c) on the same pixels, and how batch checks
scale over threads (ctypes releases the GIL during each call).

    /usr/bin/python3 bench/bench_binding.py [--build build] [--rounds 5] [--hash-calls 200]
                                            [--embed-calls 20] [--out FILE.md]

A demo mascot (demo/characters/bolt.svg) is rendered at 512x512 and 1024x1024 and registered
as a reference; each (size, signals, input) cell is then measured in rounds, C and Python
alternating (and which goes first alternating too), so that a noisy machine slows both alike.
Each side's samples are pooled over the rounds and reduced to a median. Inputs: "rgb8" a
contiguous HxWx3 uint8 array; "float32" the same picture as floats 0..1 (C: LK_PIXEL_RGBF32);
"strided" a view into a wider array (C: the same row distance); "bytes" the PNG file's bytes
(C: lk_check_bytes). Prints a markdown table; --out also writes it to a file.
"""
import argparse
import ctypes
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=str(ROOT / "build"), help="the build folder (default: build)")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds per cell (default 5)")
    p.add_argument("--hash-calls", type=int, default=200, help="calls per round, hash only (default 200)")
    p.add_argument("--embed-calls", type=int, default=20, help="calls per round, with the embedding (default 20)")
    p.add_argument("--batch", type=int, default=48, help="images in the thread-scaling batch (default 48)")
    p.add_argument("--out", help="also write the markdown here")
    return p.parse_args()


def machine():
    model = "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main():
    args = parse()
    build = pathlib.Path(args.build).resolve()
    os.environ.setdefault("LIKENESS_LIBRARY", str(build / "liblikeness.so.0"))
    sys.path.insert(0, str(ROOT / "bindings" / "python"))
    import numpy as np
    from PIL import Image

    import likeness

    load_before = os.getloadavg()[0]
    cli, cprog = str(build / "likeness"), str(build / "bench_binding_c")
    tmp = tempfile.mkdtemp(prefix="likeness-bench-binding-")
    try:
        reg_dir = os.path.join(tmp, "registry")
        subprocess.run([cli, "init", reg_dir], check=True, capture_output=True)
        subprocess.run([cli, "character", "add", "bolt", "--name", "Bolt", "-r", reg_dir], check=True,
                       capture_output=True)
        pictures = {}
        for side in (512, 1024):
            png = os.path.join(tmp, f"bolt-{side}.png")
            # The SVG is drawn at 512: scale 2 renders it at 1024 rather than upsampling pixels.
            subprocess.run(["vips", "copy", f"{ROOT}/demo/characters/bolt.svg[scale={side / 512:g}]", png],
                           check=True)
            rgb = np.ascontiguousarray(np.asarray(Image.open(png).convert("RGB")))
            assert rgb.shape == (side, side, 3), rgb.shape
            raw = os.path.join(tmp, f"bolt-{side}.rgb")
            rgb.tofile(raw)
            wide = np.zeros((side, side + 64, 3), np.uint8)
            wide[:, 32:32 + side] = rgb
            pictures[side] = {"png": png, "raw": raw, "rgb8": rgb, "float32": rgb.astype(np.float32) / 255,
                              "strided": wide[:, 32:32 + side], "bytes": pathlib.Path(png).read_bytes()}
        subprocess.run([cli, "ref", "add", "bolt", pictures[512]["png"], "-r", reg_dir], check=True,
                       capture_output=True)

        reg = likeness.Registry(reg_dir)
        c_input = {"rgb8": "rgb8", "float32": "rgbf32", "strided": "strided", "bytes": "bytes"}
        cells = [(side, mode, inp) for side in (512, 1024) for mode in ("hash", "embed") for inp in c_input]
        samples = {cell: ([], [], []) for cell in cells}  # C, Python, bare ctypes

        def run_c(side, mode, inp, n):
            pic = pictures[side]
            file = pic["png"] if inp == "bytes" else pic["raw"]
            out = subprocess.run([cprog, reg_dir, file, str(side), str(side), str(n), mode, c_input[inp]],
                                 check=True, capture_output=True, text=True).stdout
            return [int(x) / 1000.0 for x in out.split()]

        def run_py(side, mode, inp, n):
            image, hash_only = pictures[side][inp], mode == "hash"
            for _ in range(3):  # warm, as the C side does
                reg.check(image, hash_only=hash_only)
            out = []
            for _ in range(n):
                t0 = time.perf_counter_ns()
                reg.check(image, hash_only=hash_only)
                out.append((time.perf_counter_ns() - t0) / 1000.0)
            return out

        from likeness import _lib

        def run_raw(side, mode, inp, n):
            """The bare ctypes call from this process, arguments made in advance: separates what
            the binding's Python adds from what being inside a Python process does."""
            image = pictures[side][inp]
            opts = _lib.check_options(hash_only=mode == "hash")
            out = _lib.CheckResult()
            if inp == "bytes":
                data = np.frombuffer(image, np.uint8)
                fn, args_ = _lib.lib.lk_check_bytes, (ctypes.byref(out), reg._reg, data.ctypes.data, data.size,
                                                      ctypes.byref(opts))
            else:
                view, keep = likeness._pixels.pixel_view(image)
                fn, args_ = _lib.lib.lk_check_pixels, (ctypes.byref(out), reg._reg, ctypes.byref(view),
                                                       ctypes.byref(opts))
            for _ in range(3):
                fn(*args_)
            samples_ = []
            for _ in range(n):
                t0 = time.perf_counter_ns()
                fn(*args_)
                samples_.append((time.perf_counter_ns() - t0) / 1000.0)
            return samples_

        started = time.time()
        for rnd in range(args.rounds):
            for cell in cells:
                n = args.hash_calls if cell[1] == "hash" else args.embed_calls
                order = (run_c, run_py, run_raw) if rnd % 2 == 0 else (run_raw, run_py, run_c)
                for fn in order:
                    samples[cell][(run_c, run_py, run_raw).index(fn)].extend(fn(*cell, n))
            print(f"round {rnd + 1}/{args.rounds} done ({time.time() - started:.0f} s)", file=sys.stderr)

        lines = ["| image | signals | input | C median (µs) | bare ctypes (µs) | Python median (µs) | "
                 "overhead (µs) | ratio |", "|---|---|---|---:|---:|---:|---:|---:|"]
        for side, mode, inp in cells:
            c, py, raw = (statistics.median(s) for s in samples[(side, mode, inp)])
            lines.append(f"| {side}x{side} | {'PDQ only' if mode == 'hash' else 'PDQ + embedding'} | {inp} | "
                         f"{c:,.0f} | {raw:,.0f} | {py:,.0f} | {py - c:+,.1f} | {py / c:.3f} |")

        # The binding's own work per call, without C's noise: the C entry points replaced by a
        # stub that copies a real result (1 match) into the caller's struct, as C would.
        own = ["", "| binding alone (C stubbed) | input | µs per call |", "|---|---|---:|"]
        template = _lib.CheckResult()
        view, _keep = likeness._pixels.pixel_view(pictures[512]["rgb8"])
        assert _lib.lib.lk_check_pixels(ctypes.byref(template), reg._reg, ctypes.byref(view),
                                        ctypes.byref(_lib.check_options(True))) == 0

        def stub(out, *rest):
            ctypes.memmove(ctypes.addressof(out._obj), ctypes.addressof(template), ctypes.sizeof(template))
            return 0

        real = {name: getattr(_lib.lib, name) for name in ("lk_check_pixels", "lk_check_bytes")}
        try:
            for name in real:
                setattr(_lib.lib, name, stub)
            for inp in c_input:
                image = pictures[512][inp]
                runs = []
                for _ in range(7):
                    t0 = time.perf_counter_ns()
                    for _ in range(2000):
                        reg.check(image, hash_only=True)
                    runs.append((time.perf_counter_ns() - t0) / 2000 / 1000.0)
                own.append(f"| 512x512 | {inp} | {statistics.median(runs):.1f} |")
        finally:
            for name, fn in real.items():
                setattr(_lib.lib, name, fn)

        # Thread scaling: the same batch on 1 and 2 threads; with the GIL held during calls the
        # second thread could not add anything.
        scale = ["", "| check_batch | signals | threads | images/s | speed-up |", "|---|---|---:|---:|---:|"]
        for mode in ("hash", "embed"):
            batch = [pictures[512]["rgb8"]] * (args.batch if mode == "hash" else max(8, args.batch // 4))
            best = {}
            for rnd in range(3):
                for threads in ((1, 2) if rnd % 2 == 0 else (2, 1)):
                    t0 = time.perf_counter()
                    reg.check_batch(batch, hash_only=mode == "hash", threads=threads)
                    rate = len(batch) / (time.perf_counter() - t0)
                    best.setdefault(threads, []).append(rate)
            one = statistics.median(best[1])
            for threads in (1, 2):
                rate = statistics.median(best[threads])
                scale.append(f"| {len(batch)} x 512x512 rgb8 | {'PDQ only' if mode == 'hash' else 'PDQ + embedding'} "
                             f"| {threads} | {rate:,.1f} | {rate / one:.2f}x |")
        reg.close()

        calls = (f"{args.rounds} rounds x {args.hash_calls} calls (PDQ only) / {args.embed_calls} calls "
                 "(with the embedding) per side and cell")
        load = f"load average {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end (other work on the machine)"
        text = "\n".join([f"Machine: {machine()}; {load}. {calls}; thread scaling: median of 3 runs each.", ""]
                         + lines + own + scale) + "\n"
        print(text)
        if args.out:
            pathlib.Path(args.out).write_text(text)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
