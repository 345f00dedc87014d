#!/usr/bin/env python3
"""llama.cpp's CPU speed on a GGUF model, as the peer `council bench decode` prints beside its own.

Same method as council's benchmark: prefill the prompt once (timed), then decode N tokens one at
a time, each the argmax of the previous logits (timed); repeated, median reported. One JSON line:
  {"engine": "llama-cpp-python 0.3.36", "threads": 1, "prompt_tokens": 37, "decode_tokens": 64,
   "prefill_tok_s": [...per repeat], "decode_tok_s": [...], "prefill_tok_s_median": x, "decode_tok_s_median": y}

Run (the venv comes from scripts/setup):
    ~/.cache/council/venv/bin/python tests/reference/bench_llama.py --model M.gguf --threads 1 \
        --prompt-tokens 1,9690,198,... [--decode 64] [--repeats 3]
"""
import argparse
import json
import statistics
import sys
import time

import llama_cpp
import numpy as np
from llama_cpp import Llama


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--prompt-tokens", required=True, help="comma-separated token ids")
    ap.add_argument("--decode", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    prompt = [int(t) for t in args.prompt_tokens.split(",") if t.strip()]
    if not prompt or args.decode < 1 or args.repeats < 1:
        sys.exit("need a non-empty prompt, --decode >= 1 and --repeats >= 1")

    llm = Llama(
        model_path=args.model,
        n_ctx=max(512, len(prompt) + args.decode + 8),
        n_batch=512,
        n_threads=args.threads,
        n_threads_batch=args.threads,
        logits_all=False,
        verbose=False,
    )
    # Warm-up (first-touch of the weights, thread start-up) outside the timings.
    llm.reset()
    llm.eval(prompt[:8])

    prefill, decode = [], []
    for _ in range(args.repeats):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(prompt)
        t1 = time.perf_counter()
        tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        t2 = time.perf_counter()
        for _ in range(args.decode):
            llm.eval([tok])
            tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        t3 = time.perf_counter()
        prefill.append(len(prompt) / (t1 - t0))
        decode.append(args.decode / (t3 - t2))
    print(
        json.dumps(
            {
                "engine": f"llama-cpp-python {llama_cpp.__version__}",
                "threads": args.threads,
                "prompt_tokens": len(prompt),
                "decode_tokens": args.decode,
                "prefill_tok_s": prefill,
                "decode_tok_s": decode,
                "prefill_tok_s_median": statistics.median(prefill),
                "decode_tok_s_median": statistics.median(decode),
            }
        )
    )


if __name__ == "__main__":
    main()
