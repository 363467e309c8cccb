#!/usr/bin/env python3
"""Stand-in for an evaluation job: reads the samples of one checkpoint and prints a score."""
import argparse
import json
import os
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ckpt", required=True)
    parser.add_argument("--samples", required=True)
    args = parser.parse_args()

    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "(unset)")
    try:
        with open(args.samples) as f:
            data = json.load(f)
    except (OSError, ValueError) as err:
        print(f"evaluate {args.ckpt}: cannot read {args.samples}: {err}", file=sys.stderr)
        return 1
    samples = data["samples"]
    score = sum(samples) / len(samples)
    print(f"evaluate {args.ckpt}: CUDA_VISIBLE_DEVICES={visible} samples={len(samples)} score={score:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
