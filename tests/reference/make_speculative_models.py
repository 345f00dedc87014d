#!/usr/bin/env python3
"""Requantize the test model into a verifier and a drafter for speculative decoding and fusion.

Speculative decoding needs two models with one vocabulary, a larger verifier and a cheaper
drafter. Only one small test model is cached, so this script makes its siblings with
llama.cpp's own quantizer (`llama_model_quantize`, requantizing the Q4_1 weights):

  Q8_0: the verifier. Its weights are the Q4_1 weights re-rounded to 8 bits, so it reads
        about 1.7x the bytes of the Q4_1 file per token while computing nearly the same
        function: a verifier whose drafter (the Q4_1 file itself) is a close, cheaper copy.
  Q4_0: a lossier drafter (the Q4_1 weights re-rounded to 4 bits without the offset), for
        a lower acceptance rate than the Q4_1 drafter.

Be honest about what this models: the pair shares one network, so acceptance is high and
the drafter costs only the fewer bytes it reads; a real drafter is a smaller network. The
exactness of speculative decoding (greedy output identical to the verifier alone) does not
depend on which drafter is used; gpu/tests/speculative.rs checks it with both.

Writes <out>/SmolLM2-135M-Instruct.Q8_0.gguf and <out>/SmolLM2-135M-Instruct.Q4_0.gguf.

Run (the venv comes from scripts/setup):
    ~/.cache/council/venv/bin/python tests/reference/make_speculative_models.py [--model PATH.gguf] [--out DIR]
"""
import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_kquant_reference import quantize  # noqa: E402
from make_logits_reference import DEFAULT_MODEL, REPO  # noqa: E402

# (name, llama_ftype): LLAMA_FTYPE_MOSTLY_Q8_0 = 7, LLAMA_FTYPE_MOSTLY_Q4_0 = 2 (llama.h).
SIBLINGS = [("Q8_0", 7), ("Q4_0", 2)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.environ.get("COUNCIL_TEST_MODEL", str(DEFAULT_MODEL)))
    ap.add_argument("--out", default=os.environ.get("COUNCIL_REFERENCE_DIR", str(REPO / "target/reference")))
    args = ap.parse_args()

    model = Path(args.model)
    if not model.is_file():
        sys.exit(f"model not found: {model} (scripts/setup fetches it)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = model.name.split(".")[0]
    for name, ftype in SIBLINGS:
        dst = out / f"{stem}.{name}.gguf"
        quantize(model, dst, ftype)
        print(f"wrote {dst} ({dst.stat().st_size >> 20} MiB)")


if __name__ == "__main__":
    main()
