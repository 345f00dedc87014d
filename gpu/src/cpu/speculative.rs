//! Two models writing one reply token by token: speculative decoding (a drafter proposes
//! `draft_len` tokens, the verifier scores them all in one multi-position step and keeps the
//! longest prefix it would have picked itself) and token-level fusion (per token a router
//! lets the more confident model emit it, with the other's log-probabilities added).
//!
//! Both are greedy. Speculative output is exactly the verifier's greedy output alone: each
//! position's logits come from the same forward pass whether it is fed alone or with drafted
//! tokens after it (rows are independent outside attention, and attention reads only earlier
//! positions; see [`super::forward`]), and a rejected draft is rolled back with
//! [`Sequence::truncate`]. `gpu/tests/speculative.rs` checks this on the real test model.
//!
//! The two models must share a vocabulary. The drafter may be the verifier's own runner (one
//! model playing two personas, each with its own prompt and sequence).

use super::forward::{Runner, Sequence, Step, Want};
use super::model::CpuError;
use crate::sampling::greedy;

/// Who wrote a token of a joint reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authored {
    /// Speculative: drafted and kept by the verifier.
    Accepted,
    /// Speculative: drafted and thrown away (not part of the reply).
    Rejected,
    /// Speculative: written by the verifier (a correction or the token after a fully accepted
    /// draft).
    Written,
    /// Fusion: emitted by the routed model as it would alone.
    Chosen,
    /// Fusion: emitted by the routed model, changed by the other's log-probabilities.
    Complemented,
}

/// One token of a joint reply; `first` says whether the first model (the verifier, or the
/// first fusion expert) wrote it, else the second (the drafter, or the second expert).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JointToken {
    pub token: u32,
    pub first: bool,
    pub status: Authored,
}

/// Limits of a joint generation.
#[derive(Clone, Debug)]
pub struct JointOptions {
    /// Most tokens of the reply (the stop token not counted).
    pub max_tokens: usize,
    /// Positions of each sequence (prompt + reply + drafts).
    pub max_ctx: usize,
    /// Tokens that end the reply (not part of it).
    pub stop: Vec<u32>,
}

/// What a joint generation wrote and what it cost.
#[derive(Clone, Debug, Default)]
pub struct Joint {
    /// The reply's tokens (without the stop token).
    pub tokens: Vec<u32>,
    /// Every token in order, rejected drafts included.
    pub pieces: Vec<JointToken>,
    /// Forward steps of the first model after its prompt (verification steps, for
    /// speculative decoding) and of the second.
    pub first_steps: usize,
    pub second_steps: usize,
}

/// Most tokens drafted per verification step.
pub const MAX_DRAFT: usize = 16;

/// The runner a model of a pair runs on: its own, or the other model's when one model plays
/// both parts.
fn pick<'a>(first: &'a mut Runner, second: &'a mut Option<&mut Runner>, want_first: bool) -> &'a mut Runner {
    match second {
        Some(r) if !want_first => r,
        _ => first,
    }
}

fn feed(runner: &mut Runner, seq: &mut Sequence, tokens: &[u32], want: Want) -> Result<Vec<f32>, CpuError> {
    runner.forward(&mut [Step { seq, tokens, want }]).map(<[f32]>::to_vec)
}

fn check_prompts(a: &[u32], b: &[u32], opts: &JointOptions) -> Result<(), CpuError> {
    if a.is_empty() || b.is_empty() {
        return Err(CpuError::Input("the prompt is empty".into()));
    }
    let longest = a.len().max(b.len());
    if longest + opts.max_tokens + MAX_DRAFT + 1 > opts.max_ctx {
        return Err(CpuError::Input(format!(
            "a prompt of {longest} tokens and {} reply tokens (plus drafts) do not fit {} positions",
            opts.max_tokens, opts.max_ctx
        )));
    }
    Ok(())
}

/// Speculative decoding: `drafter` (or, when `None`, the verifier's own model with the
/// drafter's prompt) proposes `draft_len` tokens greedily; the verifier feeds its last token
/// and the drafts in one step, keeps the drafts equal to its own greedy picks, and writes the
/// next token itself. `draft_len` 0 is the verifier alone, one token per step.
pub fn speculate(
    verifier: &mut Runner,
    mut drafter: Option<&mut Runner>,
    verifier_prompt: &[u32],
    drafter_prompt: &[u32],
    draft_len: usize,
    opts: &JointOptions,
) -> Result<Joint, CpuError> {
    check_prompts(verifier_prompt, drafter_prompt, opts)?;
    if draft_len > MAX_DRAFT {
        return Err(CpuError::Input(format!("draft length {draft_len} is more than {MAX_DRAFT}")));
    }
    if let Some(d) = &drafter
        && d.model().config().n_vocab != verifier.model().config().n_vocab
    {
        return Err(CpuError::Input("the drafter and the verifier have different vocabularies".into()));
    }
    let mut out = Joint::default();
    let mut vseq = verifier.sequence(opts.max_ctx);
    let mut dseq = pick(verifier, &mut drafter, false).sequence(opts.max_ctx);
    let n_vocab = verifier.model().config().n_vocab;
    // The verifier holds its prompt but the last token; `pending` is the token it feeds next
    // (the last prompt token, then the last token it wrote).
    let (head, last) = verifier_prompt.split_at(verifier_prompt.len() - 1);
    if !head.is_empty() {
        feed(verifier, &mut vseq, head, Want::Nothing)?;
    }
    let mut pending = last[0];
    loop {
        // Drafting: bring the drafter's sequence to its prompt + the reply so far (rolling back
        // drafts the verifier threw away), then draft greedily.
        let mut draft: Vec<u32> = Vec::with_capacity(draft_len);
        if draft_len > 0 {
            let want: Vec<u32> = [drafter_prompt, &out.tokens].concat();
            let common = dseq.tokens().iter().zip(&want).take_while(|(a, b)| a == b).count();
            dseq.truncate(common);
            let d = pick(verifier, &mut drafter, false);
            let mut logits = feed(d, &mut dseq, &want[common..], Want::Last)?;
            out.second_steps += 1;
            loop {
                let t = greedy(&logits);
                draft.push(t);
                if draft.len() == draft_len || opts.stop.contains(&t) {
                    break;
                }
                logits = feed(d, &mut dseq, &[t], Want::Last)?;
                out.second_steps += 1;
            }
        }
        // Verification: one step over the pending token and the drafts.
        let fed: Vec<u32> = std::iter::once(pending).chain(draft.iter().copied()).collect();
        let logits = feed(verifier, &mut vseq, &fed, Want::All)?;
        out.first_steps += 1;
        let picks: Vec<u32> = logits.chunks_exact(n_vocab).map(greedy).collect();
        let kept = draft.iter().zip(&picks).take_while(|(d, p)| d == p).count();
        let mut done = false;
        for (k, &t) in draft.iter().enumerate() {
            let status = if k < kept { Authored::Accepted } else { Authored::Rejected };
            // The reply ends inside the kept drafts: the drafts after it were never needed.
            if status == Authored::Accepted && (opts.stop.contains(&t) || out.tokens.len() >= opts.max_tokens) {
                done = true;
                break;
            }
            out.pieces.push(JointToken { token: t, first: false, status });
            if status == Authored::Accepted {
                out.tokens.push(t);
            }
        }
        if done {
            break;
        }
        // The verifier's own token after the kept drafts.
        let own = picks[kept];
        if opts.stop.contains(&own) || out.tokens.len() >= opts.max_tokens {
            break;
        }
        out.pieces.push(JointToken { token: own, first: true, status: Authored::Written });
        out.tokens.push(own);
        if out.tokens.len() >= opts.max_tokens {
            break;
        }
        // Forget the rejected drafts; the kept ones stay in the cache.
        let keep = vseq.position() - (draft.len() - kept);
        vseq.truncate(keep);
        pending = own;
    }
    Ok(out)
}

/// How a fusion router picks the model that emits a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// The model with the higher top probability, per token.
    Token,
    /// The model with the higher top probability at the first token, for the whole reply.
    Sequence,
    /// Always the first model.
    First,
    /// Always the second model.
    Second,
}

impl Route {
    pub fn parse(name: &str) -> Option<Route> {
        Some(match name {
            "token" => Route::Token,
            "sequence" => Route::Sequence,
            "first" => Route::First,
            "second" => Route::Second,
            _ => return None,
        })
    }
}

/// Log-softmax of a row of logits, in f64.
fn log_softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&x| (x as f64 - max).exp()).sum();
    let log_z = max + sum.ln();
    logits.iter().map(|&x| x as f64 - log_z).collect()
}

fn argmax(v: &[f64]) -> u32 {
    // Lowest id on ties, as the greedy sampler.
    (0..v.len()).fold(0, |m, k| if v[k] > v[m] { k } else { m }) as u32
}

/// Token-level fusion: both models score the next token (in one batched step when they share
/// a runner); the router picks the model that emits it, whose log-probabilities plus
/// `complement` × the other's choose the token; both models are fed it.
pub fn fuse(
    first: &mut Runner,
    mut second: Option<&mut Runner>,
    first_prompt: &[u32],
    second_prompt: &[u32],
    route: Route,
    complement: f64,
    opts: &JointOptions,
) -> Result<Joint, CpuError> {
    check_prompts(first_prompt, second_prompt, opts)?;
    if let Some(s) = &second
        && s.model().config().n_vocab != first.model().config().n_vocab
    {
        return Err(CpuError::Input("the two models have different vocabularies".into()));
    }
    if !(0.0..=16.0).contains(&complement) {
        return Err(CpuError::Input(format!("complement {complement} must be in [0, 16]")));
    }
    let mut out = Joint::default();
    let mut seq_a = first.sequence(opts.max_ctx);
    let mut seq_b = pick(first, &mut second, false).sequence(opts.max_ctx);
    let n_vocab = first.model().config().n_vocab;
    let mut fixed: Option<bool> = None;
    let (mut feed_a, mut feed_b) = (first_prompt.to_vec(), second_prompt.to_vec());
    while out.tokens.len() < opts.max_tokens {
        let (la, lb) = match second.as_deref_mut() {
            Some(s) => {
                let la = feed(first, &mut seq_a, &feed_a, Want::Last)?;
                (la, feed(s, &mut seq_b, &feed_b, Want::Last)?)
            }
            None => {
                let mut steps = [Step { seq: &mut seq_a, tokens: &feed_a, want: Want::Last }, Step { seq: &mut seq_b, tokens: &feed_b, want: Want::Last }];
                let l = first.forward(&mut steps)?;
                (l[..n_vocab].to_vec(), l[n_vocab..2 * n_vocab].to_vec())
            }
        };
        out.first_steps += 1;
        out.second_steps += 1;
        let (pa, pb) = (log_softmax(&la), log_softmax(&lb));
        let top = |p: &[f64]| p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let a_surer = top(&pa) >= top(&pb);
        let a_writes = match route {
            Route::First => true,
            Route::Second => false,
            Route::Sequence => *fixed.get_or_insert(a_surer),
            Route::Token => a_surer,
        };
        let (own, other) = if a_writes { (&pa, &pb) } else { (&pb, &pa) };
        let pooled: Vec<f64> = own.iter().zip(other).map(|(x, y)| x + complement * y).collect();
        let token = argmax(&pooled);
        if opts.stop.contains(&token) {
            break;
        }
        let status = if argmax(own) == token { Authored::Chosen } else { Authored::Complemented };
        out.pieces.push(JointToken { token, first: a_writes, status });
        out.tokens.push(token);
        feed_a = vec![token];
        feed_b = vec![token];
    }
    Ok(out)
}
