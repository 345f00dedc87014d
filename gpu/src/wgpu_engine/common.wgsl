// Shared by every kernel: the per-step uniform (group 1, bound with a dynamic offset so one
// submit can carry many steps) and the weight-type codes (ggml's ids). A step is one decoded
// token, or a block of n_tokens prefill tokens at positions pos .. pos + n_tokens - 1 (their
// ids in tokens[token_slot ..], their logits in rows logits_row ..).

const TYPE_F32: u32 = 0u;
const TYPE_F16: u32 = 1u;
const TYPE_Q4_0: u32 = 2u;
const TYPE_Q4_1: u32 = 3u;
const TYPE_Q8_0: u32 = 8u;

struct Step {
    pos: u32,        // position of this token in the sequence (RoPE angle, KV row)
    token_slot: u32, // index in `tokens` the embedding kernel reads
    out_slot: u32,   // index in `tokens` the top-k kernel writes its argmax to
    logits_row: u32, // row of the logits buffer this step writes / reads
    seq_len: u32,    // pos + 1: how many KV rows attention reads
    n_chunks: u32,   // attention splits the sequence into this many chunks
    chunk_len: u32,  // positions per chunk (a multiple of 64)
    top_k: u32,      // how many candidates top-k ranks this step (1 = argmax only)
    n_tokens: u32,   // tokens in this step: 1 when decoding, up to a block when prefilling
    x_row: u32,      // row of the activations the decode output head reads (last of a block)
    _pad1: u32,
    _pad2: u32,
}

@group(1) @binding(0) var<uniform> step: Step;
