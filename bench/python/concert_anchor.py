#!/usr/bin/env python3
"""Runs one measurement of Python Concert's own benchmark scripts (../shared/anchors/python-concert/
bench_*.py, imported from the directory given in CONCERT_ANCHORS) and prints it as one JSON line,
so that bench/*.ts can interleave them with ours in the same run.

  concert_anchor.py zmq SIDE FRAMES [raw]   bench_zmq.bench_push: Concert's ZmqSender/ZmqReceiver
                                            (or raw pyzmq) over tcp loopback, one stream -> {"fps"}
  concert_anchor.py fbp N ANGLES REPS       bench_fbp's phantom and sinogram, scikit-image iradon:
                                            {"cold_s", "warm_s", "gups"} (cold = first call here)
  concert_anchor.py writer FRAMES REPS      bench_writer.py (2048x2048 uint16 frames): MB/s of Concert's
                                            DirectoryWalker one file per frame, tifffile and raw writes

Run it with the Concert venv's python (setup.sh); it exits 3 when the anchors cannot be imported.
"""
import asyncio
import json
import os
import sys
import time

ANCHORS = os.environ.get("CONCERT_ANCHORS")
if not ANCHORS or not os.path.isdir(ANCHORS):
    print(json.dumps({"missing": f"CONCERT_ANCHORS is not a directory: {ANCHORS}"}))
    sys.exit(3)
sys.path.insert(0, ANCHORS)
os.environ["_CONCERT_BENCH_REEXEC"] = "1"  # the anchors must not re-exec themselves


def main(argv):
    kind = argv[0]
    if kind == "zmq":
        import bench_zmq  # noqa: E402

        side, frames = int(argv[1]), int(argv[2])
        raw = len(argv) > 3 and argv[3] == "raw"
        # reps=1: one warm-up stream, then one measured stream (bench_push skips the first)
        med, _, _ = asyncio.run(bench_zmq.bench_push(side, frames, 1, raw=raw))
        return {"fps": med}
    if kind == "fbp":
        import numpy as np
        from skimage.transform import iradon

        import bench_fbp  # noqa: E402

        n, angles, reps = int(argv[1]), int(argv[2]), int(argv[3])
        img = bench_fbp.phantom(n)
        theta = np.linspace(0.0, 180.0, angles, endpoint=False)
        sino, _ = bench_fbp.sinogram(img, theta)
        times = []
        for _ in range(reps + 1):
            t0 = time.perf_counter()
            iradon(sino, theta=theta, filter_name="ramp", circle=True)
            times.append(time.perf_counter() - t0)
        warm = sorted(times[1:])[len(times[1:]) // 2] if reps > 0 else times[0]
        return {"cold_s": times[0], "warm_s": warm, "gups": n * n * angles / warm / 1e9}
    if kind == "writer":
        import re
        import subprocess

        frames, reps = argv[1], argv[2]
        out = subprocess.run(
            [sys.executable, os.path.join(ANCHORS, "bench_writer.py"), "--frames", frames, "--reps", reps],
            capture_output=True, text=True, check=True,
        ).stdout
        result = {}
        for key, label in (("concert", "concert DirectoryWalker+TiffWriter, 1 file/frame"),
                           ("tifffile", "tifffile.imwrite, 1 file/frame (no concert)"),
                           ("raw", "raw open().write(), 1 file/frame")):
            m = re.search(re.escape(label) + r"\s+[\d.]+\s+(\d+)", out)
            if m:
                result[key] = float(m.group(1))
        if "concert" not in result:
            raise SystemExit(f"bench_writer.py printed no figure for Concert: {out[-300:]!r}")
        return result
    raise SystemExit(f"unknown measurement {kind!r} (zmq, fbp, writer)")


if __name__ == "__main__":
    try:
        print(json.dumps(main(sys.argv[1:])), flush=True)
    except ImportError as e:
        print(json.dumps({"missing": f"cannot import the anchors: {e}"}))
        sys.exit(3)
