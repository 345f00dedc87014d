#!/usr/bin/env python3
"""Write llama.cpp's teacher-forced logits on the test model to target/reference/logits.json.

The Rust test gpu/tests/cpu_logits_reference.rs runs council's CPU engine on the same token ids
and compares, position by position: top-1 agreement wherever llama.cpp's top1 - top2 margin is
over 0.5, and the mean |delta logit| over llama.cpp's top-5.

Sequences: several chats rendered with the GGUF's own `tokenizer.chat_template` (jinja2, as
Hugging Face's apply_chat_template renders it), tokenized by llama.cpp with special=True and no
added BOS (the template starts with <|im_start|>); two of them continue with llama.cpp's own greedy
reply, so positions inside generated text are covered too; plus one plain-text passage.
Each sequence is evaluated once with logits_all=True; per position i (after reading
tokens[0..=i]) the file keeps llama.cpp's top-10 (id, logit) and the top1 - top2 margin.

Run (the venv comes from scripts/setup):
    ~/.cache/council/venv/bin/python tests/reference/make_logits_reference.py \
        [--model PATH.gguf] [--out DIR | FILE.json]
Defaults: $COUNCIL_TEST_MODEL or ~/.cache/council/models/SmolLM2-135M-Instruct.Q4_1.gguf, and
$COUNCIL_REFERENCE_DIR or <repo>/target/reference (a directory receives logits.json).
"""
import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import jinja2
import jinja2.sandbox
import llama_cpp
import numpy as np
from llama_cpp import Llama

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = Path.home() / ".cache/council/models/SmolLM2-135M-Instruct.Q4_1.gguf"

# (name, messages, greedy continuation length)
CHATS = [
    ("capital", [{"role": "user", "content": "What is the capital of France?"}], 40),
    (
        "system-multi-turn",
        [
            {"role": "system", "content": "You are a terse judge in a debate. Answer with one letter."},
            {"role": "user", "content": "Which is larger: (A) 17 * 3 or (B) 50? Think, then answer."},
            {"role": "assistant", "content": "A = 51, which is larger than 50. Answer: A"},
            {"role": "user", "content": "Are you sure? Another agent said B."},
        ],
        32,
    ),
    (
        "code",
        [{"role": "user", "content": "Write a Python function that returns the n-th Fibonacci number."}],
        0,
    ),
    (
        "french",
        [{"role": "user", "content": "Explique en deux phrases pourquoi le ciel est bleu."}],
        0,
    ),
]

PLAIN_TEXT = (
    "In a round-table discussion, each agent reads the previous answers before writing its own. "
    "After three rounds, the moderator counts the votes: 4 for option B, 2 for option A, and 1 abstention."
)


def render_chat(template_src, messages, bos, eos):
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"]
    )
    return env.from_string(template_src).render(
        messages=messages, add_generation_prompt=True, bos_token=bos, eos_token=eos
    )


def top_entries(row, k=10):
    idx = np.argpartition(-row, k)[:k]
    idx = idx[np.argsort(-row[idx], kind="stable")]
    return [[int(i), float(row[i])] for i in idx]


def evaluate(llm, tokens):
    llm.reset()
    llm.eval(tokens)
    scores = np.array(llm.scores[: len(tokens)], dtype=np.float32)
    positions = []
    for i, row in enumerate(scores):
        top = top_entries(row)
        positions.append({"i": i, "top": top, "margin": top[0][1] - top[1][1]})
    return positions


def greedy(llm, prompt, n, eog):
    llm.reset()
    llm.eval(prompt)
    out = []
    for _ in range(n):
        tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        if tok in eog:
            break
        out.append(tok)
        llm.eval([tok])
    return out


def write_reference(model, out, threads=2):
    """Evaluates every sequence on `model` (a GGUF path) and writes the JSON to `out`."""
    t0 = time.time()
    llm = Llama(
        model_path=str(model),
        n_ctx=1024,
        n_batch=512,
        n_threads=threads,
        n_threads_batch=threads,
        logits_all=True,
        seed=0,
        verbose=False,
    )
    meta = llm.metadata
    template_src = meta["tokenizer.chat_template"]
    vocab_n = llm.n_vocab()

    def piece(t):
        return llm.detokenize([t], special=True).decode("utf-8", "replace")

    bos = piece(int(meta["tokenizer.ggml.bos_token_id"]))
    eos = piece(int(meta["tokenizer.ggml.eos_token_id"]))
    eog = [t for t in range(vocab_n) if llama_cpp.llama_vocab_is_eog(llm._model.vocab, t)]

    sequences = []
    for name, messages, n_continue in CHATS:
        text = render_chat(template_src, messages, bos, eos)
        prompt = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        reply = greedy(llm, prompt, n_continue, set(eog)) if n_continue else []
        tokens = prompt + reply
        sequences.append(
            {
                "name": name,
                "text": text,
                "prompt_len": len(prompt),
                "continuation": llm.detokenize(reply, special=True).decode("utf-8", "replace"),
                "tokens": tokens,
                "positions": evaluate(llm, tokens),
            }
        )
    plain = llm.tokenize(PLAIN_TEXT.encode("utf-8"), add_bos=False, special=True)
    sequences.append(
        {
            "name": "plain-text",
            "text": PLAIN_TEXT,
            "prompt_len": len(plain),
            "continuation": "",
            "tokens": plain,
            "positions": evaluate(llm, plain),
        }
    )

    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    doc = {
        "generator": "tests/reference/" + Path(sys.argv[0]).name,
        "engine": f"llama-cpp-python {llama_cpp.__version__}",
        "system_info": llama_cpp.llama_print_system_info().decode(),
        "model": model.name,
        "model_sha256": sha,
        "n_threads": threads,
        "eog_ids": eog,
        "sequences": sequences,
    }
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=1))
    n_pos = sum(len(s["positions"]) for s in sequences)
    print(f"wrote {out}: {len(sequences)} sequences, {n_pos} positions, {time.time() - t0:.1f} s")


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
    if out.suffix != ".json":
        out = out / "logits.json"
    out.parent.mkdir(parents=True, exist_ok=True)

    write_reference(model, out, args.threads)


if __name__ == "__main__":
    main()
