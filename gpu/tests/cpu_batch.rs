//! Batched decode and shared-prefix reuse on the real test model, teacher-forced: a sequence's
//! logits must be the same whether it runs alone, batched with others of other lengths, or
//! starts from another sequence's cached pages; the prefix cache keeps to its byte budget and
//! never evicts a page a live sequence holds; the server gives the same greedy tokens batched
//! with prefix reuse as one request at a time without it.

use std::sync::Arc;

use council_gpu::cpu::{
    CpuModel, Finish, GenRequest, PrefixCache, Runner, Sequence, Server, ServerEvent, ServerOptions, Session, SessionOptions, Step, Want, PAGE,
};
use council_gpu::sampling::Sampling;
use council_gpu::tokenizer::{ChatMessage, Tokenizer};

mod common;
use common::test_model;

fn model() -> Arc<CpuModel> {
    Arc::new(CpuModel::open(test_model()).expect("test model loads"))
}

/// Chat prompts that share a system message (as a council's agents do) and differ after it.
fn prompts(model: &CpuModel) -> Vec<Vec<u32>> {
    let tok = Tokenizer::from_gguf(model.gguf()).unwrap();
    let template = tok.chat_template().unwrap().unwrap();
    let system = "You are one of several agents solving a problem together. Be brief and use the reply format exactly.";
    ["What is 17 + 25?", "Name the largest planet of the solar system.", "Is a tomato a fruit? Answer yes or no.", "What is the capital of France?", "Spell the word cat backwards."]
        .iter()
        .map(|q| tok.encode(&template.render(&[ChatMessage::new("system", system), ChatMessage::new("user", *q)], true).unwrap(), true))
        .collect()
}

/// Logits of `tokens` fed one sequence alone, teacher-forced.
fn alone(model: &Arc<CpuModel>, tokens: &[u32], threads: usize) -> Vec<f32> {
    let mut s = Session::new(Arc::clone(model), SessionOptions { max_ctx: 512, n_threads: threads });
    s.logits_all(tokens).unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// N sequences of different lengths: their prompts prefilled in one mixed step, then their
/// continuations decoded together one token per step (sequences drop out as they end), against
/// each sequence run alone. Every logit must be the same bits.
fn batched_matches_alone(threads: usize) {
    let model = model();
    let n_vocab = model.config().n_vocab;
    let prompts = prompts(&model);
    // Continuations of different lengths (teacher forcing: any ids will do).
    let conts: Vec<Vec<u32>> = (0..prompts.len()).map(|i| (0..(3 + 4 * i)).map(|j| (100 + 37 * i + 11 * j) as u32).collect()).collect();
    let full: Vec<Vec<u32>> = prompts.iter().zip(&conts).map(|(p, c)| [p.as_slice(), c].concat()).collect();
    let expect: Vec<Vec<f32>> = full.iter().map(|t| alone(&model, t, 1)).collect();

    let mut runner = Runner::new(Arc::clone(&model), threads);
    let mut seqs: Vec<Sequence> = prompts.iter().map(|_| runner.sequence(512)).collect();
    let mut steps: Vec<Step> = seqs.iter_mut().zip(&prompts).map(|(seq, p)| Step { seq, tokens: p, want: Want::All }).collect();
    let logits = runner.forward(&mut steps).unwrap().to_vec();
    drop(steps);
    let mut at = 0;
    for (i, p) in prompts.iter().enumerate() {
        let got = &logits[at..at + p.len() * n_vocab];
        assert_eq!(max_diff(got, &expect[i][..p.len() * n_vocab]), 0.0, "sequence {i}: prompt logits differ when prefilled with others");
        at += p.len() * n_vocab;
    }
    let longest = conts.iter().map(Vec::len).max().unwrap();
    for j in 0..longest {
        let live: Vec<usize> = (0..seqs.len()).filter(|&i| j < conts[i].len()).collect();
        let mut steps: Vec<Step> = seqs
            .iter_mut()
            .enumerate()
            .filter(|(i, _)| live.contains(i))
            .map(|(i, seq)| Step { seq, tokens: std::slice::from_ref(&conts[i][j]), want: Want::Last })
            .collect();
        let logits = runner.forward(&mut steps).unwrap();
        assert_eq!(logits.len(), live.len() * n_vocab);
        for (row, &i) in logits.chunks_exact(n_vocab).zip(&live) {
            let pos = prompts[i].len() + j;
            let d = max_diff(row, &expect[i][pos * n_vocab..(pos + 1) * n_vocab]);
            assert_eq!(d, 0.0, "sequence {i} position {pos} (batch of {}): decode differs from the sequence alone by {d}", live.len());
        }
    }
    for (i, s) in seqs.iter().enumerate() {
        assert_eq!(s.tokens(), &full[i][..], "every fed token is recorded");
        assert_eq!(s.position(), full[i].len());
    }
}

#[test]
fn batched_decode_gives_each_sequence_its_own_logits() {
    batched_matches_alone(1);
}

#[test]
fn batched_decode_over_two_threads_gives_each_sequence_its_own_logits() {
    batched_matches_alone(2);
}

#[test]
fn a_bad_step_feeds_nothing() {
    let model = model();
    let n_vocab = model.config().n_vocab as u32;
    let mut runner = Runner::new(Arc::clone(&model), 1);
    let (mut a, mut b) = (runner.sequence(8), runner.sequence(8));
    let good = [1u32, 2, 3];
    let bad = [4u32, n_vocab];
    let err = runner.forward(&mut [Step { seq: &mut a, tokens: &good, want: Want::Last }, Step { seq: &mut b, tokens: &bad, want: Want::Last }]);
    assert!(err.unwrap_err().to_string().contains("outside the vocabulary"));
    assert_eq!((a.position(), b.position()), (0, 0), "no sequence of a refused step is fed");
    let long = [5u32; 9];
    assert!(runner.forward(&mut [Step { seq: &mut a, tokens: &long, want: Want::Nothing }]).unwrap_err().to_string().contains("context full"));
    assert!(runner.forward(&mut [Step { seq: &mut a, tokens: &[], want: Want::Last }]).is_err());
}

#[test]
fn drafted_tokens_are_scored_in_one_step_and_rolled_back() {
    // What a speculative verifier needs: k drafted tokens scored in one step (Want::All), the
    // rejected tail dropped with truncate, and decoding continues as if it was never fed.
    let model = model();
    let n_vocab = model.config().n_vocab;
    let p = &prompts(&model)[0];
    let draft = [330u32, 4912, 28, 9];
    let expect = alone(&model, &[p.as_slice(), &draft[..2], &[77]].concat(), 1);
    let mut runner = Runner::new(Arc::clone(&model), 1);
    let mut seq = runner.sequence(512);
    runner.forward(&mut [Step { seq: &mut seq, tokens: p, want: Want::Nothing }]).unwrap();
    let scored = runner.forward(&mut [Step { seq: &mut seq, tokens: &draft, want: Want::All }]).unwrap().to_vec();
    assert_eq!(scored.len(), draft.len() * n_vocab);
    let first = p.len();
    assert_eq!(max_diff(&scored[..2 * n_vocab], &expect[first * n_vocab..(first + 2) * n_vocab]), 0.0);
    seq.truncate(first + 2);
    assert_eq!(seq.tokens().len(), first + 2);
    let next = runner.forward(&mut [Step { seq: &mut seq, tokens: &[77], want: Want::Last }]).unwrap();
    assert_eq!(max_diff(next, &expect[(first + 2) * n_vocab..]), 0.0, "after the rollback the sequence continues as if the tail was never fed");
}

#[test]
fn prefix_reuse_gives_the_same_logits_as_prefilling() {
    let model = model();
    let n_vocab = model.config().n_vocab;
    let prompts = prompts(&model);
    let mut runner = Runner::new(Arc::clone(&model), 1);
    let mut cache = PrefixCache::new(64 << 20);

    // The first prompt fills the cache.
    let mut first = runner.sequence(512);
    assert_eq!(cache.start(&mut first, &prompts[0]), 0, "an empty cache has nothing to reuse");
    runner.forward(&mut [Step { seq: &mut first, tokens: &prompts[0], want: Want::Last }]).unwrap();
    cache.insert(&first, true);
    drop(first);

    // The others share its system message and diverge inside a page; one repeats it whole.
    let shared = |a: &[u32], b: &[u32]| a.iter().zip(b).take_while(|(x, y)| x == y).count();
    for (i, p) in prompts.iter().enumerate() {
        let mut seq = runner.sequence(512);
        let reused = cache.start(&mut seq, p);
        let expected = shared(&prompts[0], p).min(p.len() - 1);
        assert_eq!(reused, expected, "prompt {i} reuses its whole common prefix with the cached one, at token granularity");
        if i > 0 {
            assert!(reused > PAGE && !reused.is_multiple_of(PAGE), "prompt {i}: the test wants a divergence inside a page, got {reused}");
        }
        let got = runner.forward(&mut [Step { seq: &mut seq, tokens: &p[reused..], want: Want::All }]).unwrap();
        let expect = alone(&model, p, 1);
        let d = max_diff(got, &expect[reused * n_vocab..]);
        assert_eq!(d, 0.0, "prompt {i}: logits after reusing {reused} cached tokens differ by {d}");
        // Writing past the shared part copied the page: the cached prefix is intact.
        assert_eq!(cache.cached_prefix(&prompts[0]), prompts[0].len());
        cache.insert(&seq, true);
    }
    let s = cache.stats();
    assert_eq!(s.lookups, prompts.len() as u64 + 1);
    assert!(s.reused_tokens > 4 * PAGE as u64);
}

#[test]
fn eviction_keeps_to_the_budget_and_spares_pages_in_use() {
    let model = model();
    let mut runner = Runner::new(Arc::clone(&model), 1);
    // Token ids stand in for text: the cache only compares ids.
    let seq_of = |runner: &mut Runner, tokens: &[u32]| {
        let mut s = runner.sequence(256);
        runner.forward(&mut [Step { seq: &mut s, tokens, want: Want::Nothing }]).unwrap();
        s
    };
    let tokens = |seed: u32, n: usize| (0..n as u32).map(|j| 200 + seed * 1000 + j).collect::<Vec<u32>>();
    let probe = seq_of(&mut runner, &tokens(0, 2 * PAGE));
    let bytes_per_page = probe.state_bytes() / 2;
    let budget = 5 * bytes_per_page;
    let mut cache = PrefixCache::new(budget);

    // A live sequence started from a cached prefix holds its pages.
    cache.insert(&probe, true);
    drop(probe);
    let held_prefix = tokens(0, 2 * PAGE);
    let mut held = runner.sequence(256);
    let extended = [held_prefix.as_slice(), &[7, 8, 9]].concat();
    assert_eq!(cache.start(&mut held, &extended), 2 * PAGE);

    // Many other sequences go through; the budget holds and the held prefix stays.
    for s in 1..12 {
        let seq = seq_of(&mut runner, &tokens(s, 2 * PAGE + 3));
        cache.insert(&seq, true);
        drop(seq);
        assert!(cache.bytes() <= budget, "after sequence {s}: {} bytes held for a budget of {budget}", cache.bytes());
        assert_eq!(cache.cached_prefix(&extended), 2 * PAGE, "after sequence {s}: a prefix in use was evicted");
    }
    assert!(cache.stats().evicted_pages > 0);
    // The most recent sequence is still there; the oldest unused ones are gone.
    assert_eq!(cache.cached_prefix(&tokens(11, 2 * PAGE + 3)), 2 * PAGE + 3);
    assert_eq!(cache.cached_prefix(&tokens(1, 2 * PAGE + 3)), 0);

    // Once the sequence lets go, its pages are ordinary, evictable entries.
    drop(held);
    cache.clear();
    assert_eq!((cache.pages(), cache.bytes()), (0, 0));

    // Pages in use may push the tree past the budget; it never evicts them to get back under.
    let mut small = PrefixCache::new(bytes_per_page);
    let a = seq_of(&mut runner, &tokens(20, 3 * PAGE));
    small.insert(&a, true);
    assert_eq!(small.cached_prefix(&tokens(20, 3 * PAGE)), 3 * PAGE, "pages a live sequence holds stay, whatever the budget");
    drop(a);
    let b = seq_of(&mut runner, &tokens(21, PAGE));
    small.insert(&b, true);
    drop(b);
    assert!(small.bytes() <= bytes_per_page);
}

fn serve(model: &Arc<CpuModel>, opts: ServerOptions, prompts: &[Vec<u32>], max_tokens: usize) -> (Vec<Vec<u32>>, Vec<usize>, Server) {
    let tok = Tokenizer::from_gguf(model.gguf()).unwrap();
    let mut server = Server::new(Arc::clone(model), opts);
    for (i, p) in prompts.iter().enumerate() {
        server.submit(i as u64, GenRequest { prompt: p.clone(), max_tokens, sampling: Sampling::Greedy, stop: tok.eog_ids() }).unwrap();
    }
    let (mut out, mut reused) = (vec![Vec::new(); prompts.len()], vec![0; prompts.len()]);
    let mut done = 0;
    let mut events = Vec::new();
    while !server.is_idle() {
        events.clear();
        server.step(&mut events).unwrap();
        for e in &events {
            match *e {
                ServerEvent::Token { id, token } => out[id as usize].push(token),
                ServerEvent::Prefilled { id, reused: r, .. } => reused[id as usize] = r,
                ServerEvent::Done { id, finish, tokens } => {
                    assert_eq!(tokens, out[id as usize].len());
                    assert!(finish == Finish::Stop || tokens == max_tokens);
                    done += 1;
                }
            }
        }
    }
    assert_eq!(done, prompts.len());
    (out, reused, server)
}

#[test]
fn the_server_gives_the_same_greedy_tokens_batched_with_reuse_as_one_at_a_time() {
    let model = model();
    let prompts = prompts(&model);
    let one = ServerOptions { max_ctx: 512, n_threads: 1, max_batch: 1, prefix_cache_bytes: 0 };
    let (alone, reused_alone, _) = serve(&model, one, &prompts, 24);
    assert!(reused_alone.iter().all(|&r| r == 0));
    let batched = ServerOptions { max_ctx: 512, n_threads: 1, max_batch: 8, prefix_cache_bytes: 64 << 20 };
    let (together, reused, server) = serve(&model, batched, &prompts, 24);
    assert_eq!(together, alone, "batching and prefix reuse must not change greedy outputs");
    assert!(alone.iter().all(|o| !o.is_empty()));
    assert_eq!(reused[0], 0);
    assert!(reused[1..].iter().all(|&r| r > PAGE), "later prompts reuse the shared system message: {reused:?}");
    let (steps, rows) = server.decode_counts();
    assert!(rows as f64 / steps as f64 > 2.0, "decode steps held several sequences ({rows} rows in {steps} steps)");

    // A second round asking the same again reuses all but the last token of every prompt.
    let batched_again = {
        let mut server = server;
        let tok = Tokenizer::from_gguf(model.gguf()).unwrap();
        for (i, p) in prompts.iter().enumerate() {
            server.submit(i as u64, GenRequest { prompt: p.clone(), max_tokens: 4, sampling: Sampling::Greedy, stop: tok.eog_ids() }).unwrap();
        }
        let mut events = Vec::new();
        while !server.is_idle() {
            server.step(&mut events).unwrap();
        }
        events
    };
    for (i, p) in prompts.iter().enumerate() {
        assert!(batched_again.contains(&ServerEvent::Prefilled { id: i as u64, prompt_tokens: p.len(), reused: p.len() - 1 }), "prompt {i}");
    }
}

#[test]
fn the_server_refuses_requests_it_cannot_serve() {
    let model = model();
    let n_vocab = model.config().n_vocab as u32;
    let mut server = Server::new(Arc::clone(&model), ServerOptions { max_ctx: 8, ..ServerOptions::default() });
    let req = |prompt: Vec<u32>| GenRequest { prompt, max_tokens: 4, sampling: Sampling::Greedy, stop: vec![] };
    assert!(server.submit(0, req(vec![])).is_err());
    assert!(server.submit(0, req(vec![n_vocab])).unwrap_err().to_string().contains("vocabulary"));
    assert!(server.submit(0, req(vec![1; 8])).unwrap_err().to_string().contains("context"));
    assert!(server.is_idle());
    // A prompt that leaves room for 2 tokens gets 2, not the 4 asked for.
    server.submit(1, req(vec![1; 6])).unwrap();
    let mut events = Vec::new();
    while !server.is_idle() {
        server.step(&mut events).unwrap();
    }
    let done = events.iter().find_map(|e| if let ServerEvent::Done { tokens, .. } = e { Some(*tokens) } else { None });
    assert!(done.unwrap() <= 2);
    // Cancel drops a queued request.
    server.submit(2, req(vec![1, 2])).unwrap();
    assert!(server.cancel(2));
    assert!(server.is_idle());
}
