#!/usr/bin/env python3
"""llama.cpp's CPU speed on a GGUF model, as the peer `council bench decode` prints beside its own.

Same method as council's benchmark: prefill the prompt once (timed), then decode N tokens one at
a time, each the argmax of the previous logits (timed); repeated, median reported. One JSON line:
  {"engine": "llama-cpp-python 0.3.36", "threads": 1, "prompt_tokens": 37, "decode_tokens": 64,
   "prefill_tok_s": [...per repeat], "decode_tok_s": [...], "prefill_tok_s_median": x, "decode_tok_s_median": y}

With --batch 1,2,4,8: batched decode instead. For each N, N sequences (sequence ids 0..N-1 in
one context, one unified KV cache) are prefilled with the prompt one after another (untimed), then
decode together: each step is one llama_batch holding every sequence's last token, and each
sequence takes the argmax of its own logits. Reported per N: aggregate tok/s (N x decoded / time):
  {..., "batch": [{"n": 1, "decode_tok_s": [...], "decode_tok_s_median": x}, ...]}

Run (the venv comes from scripts/setup):
    ~/.cache/council/venv/bin/python tests/reference/bench_llama.py --model M.gguf --threads 1 \
        --prompt-tokens 1,9690,198,... [--decode 64] [--repeats 3] [--batch 1,2,4,8]
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
    ap.add_argument("--batch", help="comma-separated sequence counts: batched decode instead")
    args = ap.parse_args()
    prompt = [int(t) for t in args.prompt_tokens.split(",") if t.strip()]
    if not prompt or args.decode < 1 or args.repeats < 1:
        sys.exit("need a non-empty prompt, --decode >= 1 and --repeats >= 1")
    if args.batch:
        sizes = [int(n) for n in args.batch.split(",") if n.strip()]
        if not sizes or min(sizes) < 1:
            sys.exit("--batch needs counts >= 1")
        batched(args, prompt, sizes)
        return

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


def clear_kv(ctx):
    """Empties every sequence of the context's KV cache (the API moved across llama.cpp versions)."""
    if hasattr(llama_cpp, "llama_get_memory"):
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(ctx), True)
    elif hasattr(llama_cpp, "llama_kv_self_clear"):
        llama_cpp.llama_kv_self_clear(ctx)
    else:
        llama_cpp.llama_kv_cache_clear(ctx)


def batched(args, prompt, sizes):
    n_max = max(sizes)
    llama_cpp.llama_backend_init()
    mparams = llama_cpp.llama_model_default_params()
    model = llama_cpp.llama_model_load_from_file(args.model.encode(), mparams)
    if not model:
        sys.exit(f"cannot load {args.model}")
    vocab = llama_cpp.llama_model_get_vocab(model)
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    cparams = llama_cpp.llama_context_default_params()
    per_seq = len(prompt) + args.decode + 8
    cparams.n_ctx = n_max * per_seq
    cparams.n_batch = max(512, len(prompt))
    cparams.n_ubatch = max(512, len(prompt))
    cparams.n_seq_max = n_max
    cparams.n_threads = args.threads
    cparams.n_threads_batch = args.threads
    if hasattr(cparams, "kv_unified"):
        cparams.kv_unified = True
    ctx = llama_cpp.llama_init_from_model(model, cparams)
    if not ctx:
        sys.exit("cannot create a llama.cpp context")
    batch = llama_cpp.llama_batch_init(max(len(prompt), n_max), 0, 1)

    def decode(entries):
        """entries: (token, pos, seq, want_logits); returns nothing, logits stay in ctx."""
        batch.n_tokens = len(entries)
        for i, (tok, pos, seq, want) in enumerate(entries):
            batch.token[i] = tok
            batch.pos[i] = pos
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq
            batch.logits[i] = 1 if want else 0
        rc = llama_cpp.llama_decode(ctx, batch)
        if rc != 0:
            sys.exit(f"llama_decode failed ({rc})")

    def argmax(i):
        return int(np.argmax(np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, i), shape=(n_vocab,))))

    def run(n):
        clear_kv(ctx)
        nxt = []
        for s in range(n):
            decode([(t, p, s, p == len(prompt) - 1) for p, t in enumerate(prompt)])
            nxt.append(argmax(len(prompt) - 1))
        t0 = time.perf_counter()
        for step in range(args.decode):
            decode([(nxt[s], len(prompt) + step, s, True) for s in range(n)])
            nxt = [argmax(s) for s in range(n)]
        return n * args.decode / (time.perf_counter() - t0)

    rows = []
    for n in sizes:
        run(n)  # warm-up: first touch of the weights, thread start-up
        rates = [run(n) for _ in range(args.repeats)]
        rows.append({"n": n, "decode_tok_s": rates, "decode_tok_s_median": statistics.median(rates)})
    llama_cpp.llama_batch_free(batch)
    llama_cpp.llama_free(ctx)
    llama_cpp.llama_model_free(model)
    print(json.dumps({"engine": f"llama-cpp-python {llama_cpp.__version__}", "threads": args.threads,
                      "prompt_tokens": len(prompt), "decode_tokens": args.decode, "batch": rows}))


if __name__ == "__main__":
    main()
