#!/usr/bin/env python3
"""Write llama.cpp's tokenizer behaviour on the test model to target/reference/tokenizer.json.

The Rust tests in gpu/tests/tokenizer_reference.rs compare council's tokenizer against it:
- token ids for a varied corpus (hand-picked cases plus seeded random strings), through
  `Llama.tokenize(text, add_bos=False, special=True)` and `special=False`;
- every token's piece (`llama_token_to_piece`, special on and off) and the EOG set;
- the same corpus under other pre-tokenizers (gpt-2, llama-bpe, qwen2, default): vocab-only
  copies of the model's header with `tokenizer.ggml.pre` replaced, written beside the JSON as
  vocab-<pre>.gguf (the Rust test loads the same files);
- chat templates rendered with jinja2 the way Hugging Face's apply_chat_template does
  (trim_blocks, lstrip_blocks, loopcontrols), with the prompt ids of the model's own template.

Run (the venv comes from scripts/setup; see gpu/tests/tokenizer_reference.rs):
    ~/.cache/council/venv/bin/python tests/reference/make_tokenizer_reference.py \
        [--model PATH.gguf] [--out DIR | FILE.json]
Defaults: $COUNCIL_TEST_MODEL or ~/.cache/council/models/SmolLM2-135M-Instruct.Q4_1.gguf, and
$COUNCIL_REFERENCE_DIR or <repo>/target/reference. A directory --out (as scripts/test passes)
receives tokenizer.json and the vocab-*.gguf files.
"""
import argparse
import ctypes
import hashlib
import json
import os
import random
import struct
import sys
import time
from pathlib import Path

import jinja2
import jinja2.sandbox
import llama_cpp
from llama_cpp import Llama

REPO = Path(__file__).resolve().parents[2]

HAND_CORPUS = [
    "",
    " ",
    "Hello world",
    "Hello, world! How's it going? I'm fine, you're great; they'll see. We've done it, he'd say.",
    "I'M SHOUTING DON'T YOU SEE",
    "What is the capital of France?",
    "  leading and trailing spaces  ",
    "tabs\tand\nnewlines\r\nand \u000b vertical tab",
    "a    b     c\n\n\n   d",
    "trailing newline\n",
    "\n\n\n",
    "numbers 1 22 333 4444 55555 3.14159 -42 1,000,000 1e10 0x1F",
    "digits glued: abc123def 2024-05-17 12:30pm",
    "unicode numbers: ½ ² ٣ ४ Ⅻ ①",
    "Café naïve résumé coöperate façade Ångström",
    "Здравствуй, мир! Как дела?",
    "Γειά σου Κόσμε",
    "שלום עולם",
    "مرحبا بالعالم",
    "你好，世界！今天天气很好。",
    "日本語のテキスト、カタカナ、ひらがな。",
    "한국어 텍스트입니다",
    "ภาษาไทย",
    "emoji 😀🎉👍🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵",
    "combining: e\u0301 a\u0308 n\u0303 and zero\u200bwidth\u200dJoiner",
    "fn main() {\n    let x: Vec<u32> = (0..10).map(|i| i * 2).collect();\n    println!(\"{:?}\", x);\n}",
    "def f(x):\n\treturn x ** 2  # square\n",
    "<html><body class=\"a\">&amp; &lt;tag&gt;</body></html>",
    "SELECT * FROM users WHERE id = 42 AND name LIKE '%bob%';",
    "https://example.com/path?query=1&other=two#frag",
    "email@example.com @mention #hashtag $100 50% ^caret ~tilde `tick` |pipe|",
    "!!!??? ... --- *** ___ +++ === <<< >>>",
    "'s 't 're 've 'm 'll 'd 'S 'T 'RE",
    "<|im_start|>user\nhi<|im_end|>",
    "<|im_start|><|im_start|>x<|im_end|><|endoftext|>",
    "text<|endoftext|>more<repo_name>x<file_sep>y",
    "<|im_start|",
    "<|im_end|>  \n  <|im_start|>assistant\n",
    "a\u00a0nbsp\u2003emspace\u3000ideographic space",
    "\u0000nul and \u0007 bell and \u001b[31m escape",
    "private \ue000\uf8ff and replacement \ufffd",
    "x" * 300,
    " " * 40 + "end",
    "ab" * 100,
    "a1" * 50,
]

POOLS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "0123456789",
    " \t\n\r  ",
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "éèêàùçœæßñøåÄÖÜ",
    "абвгдежзийклмнопрстуфхцчшщыэюя",
    "的一是不了人我在有他这为之大来以个中上们",
    "😀😂🥲🎉👍🏽🔥✨🇫🇷",
    "\u0301\u0308\u200b\u200d\u00a0\u3000\u2028",
    "½²٣४Ⅻ①",
    "'s'll're've'd'm't",
]
SPECIAL_SNIPPETS = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<repo_name>", "<file_sep>", "<|im_"]


def random_corpus(n, seed=20240517):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 12)):
            r = rng.random()
            if r < 0.08:
                parts.append(rng.choice(SPECIAL_SNIPPETS))
            elif r < 0.2:
                parts.append(" " * rng.randint(1, 5))
            else:
                pool = rng.choice(POOLS)
                parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 10))))
        out.append("".join(parts))
    return out


CONVERSATIONS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [
        {"role": "system", "content": "You are a terse debater."},
        {"role": "user", "content": "Argue for tabs."},
        {"role": "assistant", "content": "Tabs are semantic."},
        {"role": "user", "content": "Now spaces, in one line."},
    ],
    [{"role": "user", "content": "  padded  \n"}, {"role": "assistant", "content": "ok"}],
    [{"role": "user", "content": "Unicode: 你好 😀 <|im_end|> inside content"}],
]

# Templates in the styles of common model families, to check the renderer beyond the test
# model's own; rendered here by jinja2 and in Rust by minijinja.
EXTRA_TEMPLATES = {
    "qwen2-style": (
        "{%- if messages[0]['role'] == 'system' %}"
        "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
        "{%- else %}"
        "{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}"
        "{%- endif %}\n"
        "{%- for message in messages %}\n"
        "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or (message.role == \"assistant\") %}\n"
        "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
        "    {%- endif %}\n"
        "{%- endfor %}\n"
        "{%- if add_generation_prompt %}\n"
        "    {{- '<|im_start|>assistant\\n' }}\n"
        "{%- endif %}\n"
    ),
    "llama3-style": (
        "{{- bos_token }}\n"
        "{%- if not date_string is defined %}\n"
        "    {%- if strftime_now is defined %}\n"
        "        {%- set date_string = strftime_now(\"%d %b %Y\") %}\n"
        "    {%- else %}\n"
        "        {%- set date_string = \"26 Jul 2024\" %}\n"
        "    {%- endif %}\n"
        "{%- endif %}\n"
        "{%- if messages[0]['role'] == 'system' %}\n"
        "    {%- set system_message = messages[0]['content']|trim %}\n"
        "    {%- set messages = messages[1:] %}\n"
        "{%- else %}\n"
        "    {%- set system_message = \"\" %}\n"
        "{%- endif %}\n"
        "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n"
        "{{- \"Today Date: \" + date_string + \"\\n\\n\" }}\n"
        "{{- system_message }}\n"
        "{{- \"<|eot_id|>\" }}\n"
        "{%- for message in messages %}\n"
        "    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}\n"
        "{%- endfor %}\n"
        "{%- if add_generation_prompt %}\n"
        "    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n"
        "{%- endif %}\n"
    ),
    "blocks-and-methods": (
        "{% for m in messages %}\n"
        "  {% if m.role == 'user' %}\n"
        "[U{{ loop.index }}] {{ m.content.strip() }}\n"
        "  {% elif m.role == 'assistant' %}\n"
        "[A] {{ m.content | upper }}{% if not loop.last %} ...{% endif %}\n"
        "  {% else %}\n"
        "[{{ m.role | upper }}] {{ m.content.split(' ') | length }} words\n"
        "  {% endif %}\n"
        "  {% if loop.index > 2 %}{% break %}{% endif %}\n"
        "{% endfor %}\n"
        "{% if add_generation_prompt %}[A]{% endif %}"
    ),
}


PRE_VARIANTS = ["gpt-2", "llama-bpe", "qwen2", "default"]
_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def read_kvs(data):
    """The raw metadata pairs of a GGUF header: (key, value type, value bytes)."""
    assert data[:4] == b"GGUF", "not a GGUF file"
    _version, _n_tensors, n_kv = struct.unpack_from("<IQQ", data, 4)

    def skip(pos, t):
        if t in _FIXED:
            return pos + _FIXED[t]
        if t == 8:
            (n,) = struct.unpack_from("<Q", data, pos)
            return pos + 8 + n
        if t == 9:
            et, n = struct.unpack_from("<IQ", data, pos)
            pos += 12
            if et in _FIXED:
                return pos + n * _FIXED[et]
            for _ in range(n):
                pos = skip(pos, et)
            return pos
        raise ValueError(f"GGUF value type {t}")

    pos, kvs = 24, []
    for _ in range(n_kv):
        (kl,) = struct.unpack_from("<Q", data, pos)
        key = data[pos + 8:pos + 8 + kl].decode()
        pos += 8 + kl
        (t,) = struct.unpack_from("<I", data, pos)
        end = skip(pos + 4, t)
        kvs.append((key, t, data[pos + 4:end]))
        pos = end
    return kvs


def write_vocab_variant(kvs, pre, path):
    """A tensor-less GGUF with the model's metadata and another pre-tokenizer name."""
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)))
    for key, t, raw in kvs:
        kb = key.encode()
        out += struct.pack("<Q", len(kb)) + kb
        if key == "tokenizer.ggml.pre":
            pb = pre.encode()
            out += struct.pack("<IQ", 8, len(pb)) + pb
        else:
            out += struct.pack("<I", t) + raw
    Path(path).write_bytes(bytes(out))


def render(source, messages, add_generation_prompt, bos, eos):
    # As transformers' apply_chat_template: sandboxed, trim/lstrip blocks, loop controls.
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"]
    )

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env.globals["raise_exception"] = raise_exception
    return env.from_string(source).render(
        messages=messages, add_generation_prompt=add_generation_prompt, bos_token=bos, eos_token=eos
    )


def piece(vocab, token, special):
    buf = ctypes.create_string_buffer(1024)
    n = llama_cpp.llama_token_to_piece(vocab, token, buf, len(buf), 0, special)
    assert 0 <= n <= len(buf), n
    return buf.raw[:n]


def main():
    default_model = os.environ.get("COUNCIL_TEST_MODEL") or str(
        Path.home() / ".cache/council/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    )
    default_dir = Path(os.environ.get("COUNCIL_REFERENCE_DIR") or REPO / "target/reference")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=default_model)
    ap.add_argument("--out", default=str(default_dir), help="directory, or the .json file to write")
    ap.add_argument("--random", type=int, default=400, help="number of seeded random strings")
    args = ap.parse_args()

    if not args.out.endswith(".json"):
        args.out = str(Path(args.out) / "tokenizer.json")
    model_path = Path(args.model)
    if not model_path.exists():
        sys.exit(f"model not found: {model_path} (run scripts/setup or set COUNCIL_TEST_MODEL)")
    sha = hashlib.sha256(model_path.read_bytes()).hexdigest()
    llm = Llama(model_path=str(model_path), vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)

    t0 = time.perf_counter()
    corpus = HAND_CORPUS + random_corpus(args.random)
    cases = []
    for text in corpus:
        data = text.encode("utf-8")
        special = llm.tokenize(data, add_bos=False, special=True)
        plain = llm.tokenize(data, add_bos=False, special=False)
        cases.append({"text": text, "special": special, "plain": plain,
                      "detok_plain_hex": b"".join(piece(vocab, t, False) for t in plain).hex()})
    tokenize_s = time.perf_counter() - t0

    meta = llm.metadata
    template = meta.get("tokenizer.chat_template")
    bos = piece(vocab, llm.token_bos(), True).decode("utf-8", "replace")
    eos = piece(vocab, llm.token_eos(), True).decode("utf-8", "replace")
    chats = []
    if template:
        for conv in CONVERSATIONS:
            for agp in (True, False):
                text = render(template, conv, agp, bos, eos)
                chats.append({"messages": conv, "add_generation_prompt": agp, "rendered": text,
                              "ids": llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)})
    extra = []
    for name, source in EXTRA_TEMPLATES.items():
        for conv in CONVERSATIONS:
            for agp in (True, False):
                extra.append({"name": name, "source": source, "messages": conv, "add_generation_prompt": agp,
                              "bos_token": "<s>", "eos_token": "</s>",
                              "rendered": render(source, conv, agp, "<s>", "</s>")})

    variants = []
    kvs = read_kvs(model_path.read_bytes()[: 8 << 20])
    for pre in PRE_VARIANTS:
        path = Path(args.out).parent / f"vocab-{pre}.gguf"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_vocab_variant(kvs, pre, path)
        v = Llama(model_path=str(path), vocab_only=True, verbose=False)
        variants.append({"pre": pre, "file": path.name, "cases": [
            {"special": v.tokenize(t.encode("utf-8"), add_bos=False, special=True),
             "plain": v.tokenize(t.encode("utf-8"), add_bos=False, special=False)} for t in corpus]})

    out = {
        "engine": f"llama-cpp-python {llama_cpp.__version__}",
        "model": model_path.name,
        "model_sha256": sha,
        "n_vocab": n_vocab,
        "bos": llm.token_bos(),
        "eos": llm.token_eos(),
        "eog": [t for t in range(n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, t)],
        "pieces_special_hex": [piece(vocab, t, True).hex() for t in range(n_vocab)],
        "pieces_plain_hex": [piece(vocab, t, False).hex() for t in range(n_vocab)],
        "tokenize_seconds": tokenize_s,
        "cases": cases,
        "variants": variants,
        "chat_template": template,
        "chats": chats,
        "extra_templates": extra,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=1))
    print(f"wrote {args.out}: {len(cases)} texts, {len(chats)} chats, {len(extra)} extra renders, "
          f"{n_vocab} pieces, {len(variants)} pre-tokenizer variants; llama.cpp tokenized the corpus in {tokenize_s * 1000:.1f} ms")


if __name__ == "__main__":
    main()
