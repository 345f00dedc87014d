#!/usr/bin/env python3
"""Requantize the test model into K-quant mixes with llama.cpp and write its logits on each.

Published GGUFs are mostly "Q4_K_M"/"Q5_K_M" mixes, which council rewrites at load into the block
types its kernels read (gpu/src/quant/transcode.rs). No such file of the test model is on PyPI, so
this script makes them with llama.cpp's own quantizer (`llama_model_quantize`, requantizing the
Q4_1 weights), then runs make_logits_reference.py's teacher-forced evaluation on each. The test
model's 576-wide rows are not whole 256-weight super-blocks, so llama.cpp falls back there exactly as
it does for Qwen2.5 or SmolLM2-360M files, and each file mixes several types:

  Q4_K_M: Q4_K and Q6_K (ffn_down), Q5_0 (other matrices), Q8_0 (some attn_v, token_embd)
  Q5_K_M: Q5_K and Q6_K (ffn_down), Q5_1 (other matrices), Q8_0 (some attn_v, token_embd)

Writes, for each mix M, <out>/SmolLM2-135M-Instruct.M.gguf and <out>/logits-M.json (the format of
logits.json). gpu/tests/kquant_reference.rs compares council's CPU and WebGPU paths against them.

Run (the venv comes from scripts/setup):
    ~/.cache/council/venv/bin/python tests/reference/make_kquant_reference.py [--model PATH.gguf] [--out DIR]
"""
import argparse
import ctypes
import os
import sys
from pathlib import Path

import llama_cpp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_logits_reference import DEFAULT_MODEL, REPO, write_reference  # noqa: E402

# (name, llama_ftype): LLAMA_FTYPE_MOSTLY_Q4_K_M = 15, LLAMA_FTYPE_MOSTLY_Q5_K_M = 17 (llama.h).
MIXES = [("Q4_K_M", 15), ("Q5_K_M", 17)]


def quantize(src, dst, ftype):
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.allow_requantize = True
    params.nthread = 2
    # llama.cpp prints a line per tensor on stderr; keep the test log readable.
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), ctypes.byref(params))
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    if rc != 0:
        sys.exit(f"llama_model_quantize({dst.name}) failed with {rc}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.environ.get("COUNCIL_TEST_MODEL", str(DEFAULT_MODEL)))
    ap.add_argument("--out", default=os.environ.get("COUNCIL_REFERENCE_DIR", str(REPO / "target/reference")))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    model = Path(args.model)
    if not model.is_file():
        sys.exit(f"model not found: {model} (scripts/setup fetches it)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = model.name.split(".")[0]
    for name, ftype in MIXES:
        mixed = out / f"{stem}.{name}.gguf"
        quantize(model, mixed, ftype)
        write_reference(mixed, out / f"logits-{name}.json", args.threads)


if __name__ == "__main__":
    main()
