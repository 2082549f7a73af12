"""The pre-flight's cost per clip: `rproxy validate` (which probes every source the run would
encode) against `rproxy validate --no-probe` (the spec file alone), on a card of camera-like
clips. Target: <= 15 ms per clip."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from _common import BIN, best_of, machine, make_source, run, verdict, warm_bytecode

TARGET_MS = 15.0
KINDS = {  # name: (codec args, container, size)
    "prores": (("prores_ks", "-profile:v", "3", "-vendor", "apl0", "-pix_fmt",
                "yuv422p10le"), "mov", "1920x1080"),
    "h264": (("libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "48"), "mp4",
             "1920x1080"),
    "dnxhr": (("dnxhd", "-profile:v", "dnxhr_lb", "-pix_fmt", "yuv422p"), "mxf", "1920x1080"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clips", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    warm_bytecode()
    with tempfile.TemporaryDirectory(prefix="rproxy-preflight-") as tmp:
        root = Path(tmp)
        for kind, (vcodec, container, size) in KINDS.items():
            card = root / kind
            card.mkdir()
            first = make_source(card / f"first.{container}", size=size, seconds=args.seconds,
                                rate="25", audio_tracks=2, vcodec=vcodec)
            names = [f"C{i:04d}.{container}" for i in range(args.clips)]
            for name in names:  # hard links: the same file, probed cold by name each time
                os.link(first, card / name)
            spec = root / f"{kind}.json"
            spec.write_text(json.dumps({
                "schema_version": 1, "sources": [f"{kind}/{n}" for n in names],
                "output_dir": f"out_{kind}", "codec": "prores_proxy", "container": "mov",
                "resolution": "960x540", "fps_mode": "passthrough"}))
            (root / f"out_{kind}").mkdir()
            probed = best_of(3, lambda s=spec: run([str(BIN / "rproxy"), "validate", str(s)]))
            alone = best_of(3, lambda s=spec: run([str(BIN / "rproxy"), "validate",
                                                   "--no-probe", str(s)]))
            per_clip = (probed - alone) / args.clips * 1000
            print(f"  {kind:7} {size} {args.seconds:g} s, {args.clips} clips: validate "
                  f"{probed:5.2f} s, --no-probe {alone:5.2f} s -> {per_clip:5.1f} ms per clip "
                  f"(target <= {TARGET_MS:g} ms: {verdict(per_clip, TARGET_MS)})")


if __name__ == "__main__":
    main()
