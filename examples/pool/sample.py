#!/usr/bin/env python3
"""Stand-in for a sampling job: "samples" from a checkpoint and writes them to a small JSON file.

Needs no GPU and no checkpoint file; it only reports the GPU corral assigned it.
"""
import argparse
import hashlib
import json
import os
import random
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ckpt", required=True)
    parser.add_argument("--gpu", default="")
    parser.add_argument("--out", required=True)
    parser.add_argument("--samples", type=int, default=4)
    args = parser.parse_args()

    seed = int(hashlib.sha256(args.ckpt.encode()).hexdigest()[:8], 16)
    rng = random.Random(seed)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "(unset)")
    print(f"sample {args.ckpt}: gpu={args.gpu or '-'} CUDA_VISIBLE_DEVICES={visible} pid={os.getpid()}", flush=True)

    samples = []
    for i in range(args.samples):
        time.sleep(rng.uniform(0.05, 0.12))  # 0.2 to 0.5 s in all
        samples.append(round(rng.random(), 4))
        print(f"  sampled {i + 1}/{args.samples}", flush=True)

    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    tmp = f"{args.out}.tmp"
    with open(tmp, "w") as f:
        json.dump({"ckpt": args.ckpt, "gpu": visible, "samples": samples}, f)
    os.replace(tmp, args.out)  # evaluate never sees a half-written file
    print(f"wrote {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
