//! The engine's public API: async (so it runs unchanged in the browser), with blocking
//! wrappers for native callers.

use super::*;

/// The public engine API; every method is async so it runs unchanged in the browser.
impl WgpuEngine {
    /// Feeds `tokens` after the current position; returns the logits that follow the last one.
    pub async fn prefill(&mut self, tokens: &[u32]) -> Result<Vec<f32>, String> {
        if tokens.is_empty() {
            return Err("prefill needs at least one token".into());
        }
        Ok(into_logits(self.run(tokens, Want::LastLogits).await?).pop().unwrap_or_default())
    }

    /// Feeds `tokens` without reading anything back (the KV cache fills; nothing waits).
    pub async fn feed(&mut self, tokens: &[u32]) -> Result<(), String> {
        self.run(tokens, Want::Nothing).await.map(|_| ())
    }

    /// Feeds one token; returns the next-token logits.
    pub async fn decode(&mut self, token: u32) -> Result<Vec<f32>, String> {
        self.prefill(&[token]).await
    }

    /// Feeds one token; returns the top-k (id, logit) pairs, best first, computed on the GPU
    /// (a few hundred bytes read back instead of the whole vocabulary).
    pub async fn decode_top_k(&mut self, token: u32) -> Result<Vec<(u32, f32)>, String> {
        Ok(into_top(self.run(&[token], Want::LastTop).await?).pop().unwrap_or_default())
    }

    /// Feeds `tokens` after the current position and returns the logits after every one of
    /// them, `tokens.len() × vocab` row-major (the CPU `Session::logits_all` contract).
    pub async fn logits_all(&mut self, tokens: &[u32]) -> Result<Vec<f32>, String> {
        Ok(into_logits(self.run(tokens, Want::AllLogits).await?).concat())
    }

    /// Teacher-forced scoring from an empty cache: the next-token logits after each prefix
    /// `tokens[..=i]`, one row per token.
    pub async fn logits_for(&mut self, tokens: &[u32]) -> Result<Vec<Vec<f32>>, String> {
        self.reset();
        Ok(into_logits(self.run(tokens, Want::AllLogits).await?))
    }

    /// Like [`Self::logits_for`] but returns only the GPU top-k per position.
    pub async fn top_k_for(&mut self, tokens: &[u32]) -> Result<Vec<Vec<(u32, f32)>>, String> {
        self.reset();
        Ok(into_top(self.run(tokens, Want::AllTop).await?))
    }

    /// How many candidates the top-k methods return.
    pub fn top_k(&self) -> usize {
        self.top_k
    }

    /// Greedy generation kept on the GPU: feeds `prompt` after the current position, then
    /// produces up to `max_new` tokens, each step embedding the previous step's argmax
    /// straight from GPU memory. Token ids are read back READBACK_BATCH at a time, one batch
    /// behind the GPU, so a stop token is noticed a little late and the extra steps are
    /// discarded. Returns the new tokens (ending with the stop token if one came); the last
    /// returned token is not yet in the cache.
    pub async fn generate_greedy(&mut self, prompt: &[u32], max_new: usize, stop: &[u32]) -> Result<Vec<u32>, String> {
        if prompt.is_empty() {
            return Err("generation needs at least one prompt token".into());
        }
        self.check_tokens(prompt, max_new.saturating_sub(1))?;
        let (head, last) = prompt.split_at(prompt.len() - 1);
        self.run(head, Want::Nothing).await?;
        if max_new == 0 {
            self.run(last, Want::Nothing).await?;
            return Ok(Vec::new());
        }
        self.gpu.queue.write_buffer(&self.tokens, (self.pos * 4) as u64, bytemuck::cast_slice(last));
        let first = self.pos; // step i runs at position first + i and writes slot first + i + 1
        let mut generated: Vec<u32> = Vec::with_capacity(max_new);
        let mut pending: Option<(usize, usize, wgpu::SubmissionIndex)> = None; // (ring, count, submit)
        let mut ring = 0;
        let mut batch_start = 0;
        let mut stopped = false;
        for i in 0..max_new {
            let step = self.step(first + i, 1, true, 1);
            let batch_end = (i + 1) % READBACK_BATCH == 0 || i + 1 == max_new;
            let copy = if batch_end {
                CopyOut::Tokens { first_slot: first + batch_start + 1, count: i + 1 - batch_start, ring }
            } else {
                CopyOut::None
            };
            let index = self.submit(&[Work::Token(step, true)], copy);
            if batch_end {
                if let Some(done) = pending.take() {
                    stopped = self.collect_tokens(done, stop, &mut generated).await?;
                }
                pending = Some((ring, i + 1 - batch_start, index));
                ring ^= 1;
                batch_start = i + 1;
                if stopped {
                    break;
                }
            }
        }
        if let Some(done) = pending.take() {
            if !stopped {
                self.collect_tokens(done, stop, &mut generated).await?;
            } else {
                // Drain the in-flight mapping so the buffer can be reused.
                let (ring, count, index) = done;
                map_read(&self.gpu.device, &self.token_readback[ring], (count * 4) as u64, index).await?;
            }
        }
        if let Some(at) = generated.iter().position(|t| stop.contains(t)) {
            generated.truncate(at + 1);
        }
        generated.truncate(max_new);
        self.pos = first + generated.len();
        Ok(generated)
    }

    /// Reads one batch of generated ids; true when it holds a stop token.
    async fn collect_tokens(
        &self,
        (ring, count, index): (usize, usize, wgpu::SubmissionIndex),
        stop: &[u32],
        generated: &mut Vec<u32>,
    ) -> Result<bool, String> {
        let bytes = map_read(&self.gpu.device, &self.token_readback[ring], (count * 4) as u64, index).await?;
        let ids: &[u32] = bytemuck::cast_slice(&bytes);
        generated.extend_from_slice(ids);
        Ok(ids.iter().any(|t| stop.contains(t)))
    }
}

/// Blocking wrappers for native callers (CLI, tests, benchmarks).
#[cfg(not(target_arch = "wasm32"))]
impl WgpuEngine {
    pub fn load_blocking(gpu: &Gpu, cfg: &LlamaConfig, weights: &dyn WeightSource, opts: &EngineOptions) -> Result<Self, String> {
        pollster::block_on(Self::load(gpu, cfg, weights, opts))
    }
    pub fn prefill_blocking(&mut self, tokens: &[u32]) -> Result<Vec<f32>, String> {
        pollster::block_on(self.prefill(tokens))
    }
    pub fn decode_blocking(&mut self, token: u32) -> Result<Vec<f32>, String> {
        pollster::block_on(self.decode(token))
    }
    pub fn logits_for_blocking(&mut self, tokens: &[u32]) -> Result<Vec<Vec<f32>>, String> {
        pollster::block_on(self.logits_for(tokens))
    }
    pub fn logits_all_blocking(&mut self, tokens: &[u32]) -> Result<Vec<f32>, String> {
        pollster::block_on(self.logits_all(tokens))
    }
    pub fn feed_blocking(&mut self, tokens: &[u32]) -> Result<(), String> {
        pollster::block_on(self.feed(tokens))
    }
    pub fn decode_top_k_blocking(&mut self, token: u32) -> Result<Vec<(u32, f32)>, String> {
        pollster::block_on(self.decode_top_k(token))
    }
    pub fn top_k_for_blocking(&mut self, tokens: &[u32]) -> Result<Vec<Vec<(u32, f32)>>, String> {
        pollster::block_on(self.top_k_for(tokens))
    }
    pub fn generate_greedy_blocking(&mut self, prompt: &[u32], max_new: usize, stop: &[u32]) -> Result<Vec<u32>, String> {
        pollster::block_on(self.generate_greedy(prompt, max_new, stop))
    }
}
