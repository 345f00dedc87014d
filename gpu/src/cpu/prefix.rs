//! Shared-prefix KV reuse: a tree of KV pages keyed by the token ids they hold, so a prompt
//! that starts like an earlier one (the same system prompt and task, the transcript so far)
//! starts from that one's keys and values instead of running those tokens through the model.
//!
//! Each node is one page ([`PAGE`] positions) under its parent, labelled with the page's token
//! ids: the path from a root spells a token prefix. A lookup follows full pages while they match
//! and may end inside a page (token granularity): the sequence then holds that page too and
//! copies it on its first write (see [`super::KvCache`]), so reuse never changes a logit.
//!
//! Pages are reference counted (`Arc`): a page a live sequence also holds is in use and is never
//! evicted. Past the byte budget, unused leaves go first, least recently used first (a lookup
//! or insert touches its whole path, so a parent is never older than its children).

use std::sync::Arc;

use super::forward::Sequence;
use super::kv_cache::{KvPage, PAGE};

/// Counters over the cache's life, for reports and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrefixStats {
    pub lookups: u64,
    /// Prompt tokens looked up, and of those, taken from the cache.
    pub looked_up_tokens: u64,
    pub reused_tokens: u64,
    pub inserted_pages: u64,
    pub evicted_pages: u64,
}

#[derive(Debug)]
struct Node {
    parent: Option<usize>,
    /// The page's token ids: `PAGE` of them, or fewer for a sequence's last page (a leaf).
    tokens: Vec<u32>,
    page: Arc<KvPage>,
    children: Vec<usize>,
    used: u64,
}

/// The prefix tree with its byte budget (0 turns reuse off).
#[derive(Debug)]
pub struct PrefixCache {
    nodes: Vec<Option<Node>>,
    free: Vec<usize>,
    roots: Vec<usize>,
    budget: usize,
    bytes: usize,
    clock: u64,
    stats: PrefixStats,
}

fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

impl PrefixCache {
    /// An empty cache that keeps at most `budget_bytes` of pages no sequence uses.
    pub fn new(budget_bytes: usize) -> Self {
        Self { nodes: Vec::new(), free: Vec::new(), roots: Vec::new(), budget: budget_bytes, bytes: 0, clock: 0, stats: PrefixStats::default() }
    }

    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Whether reuse is on (a budget above zero).
    pub fn enabled(&self) -> bool {
        self.budget > 0
    }

    /// Bytes of the pages the tree holds (pages live sequences share included).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Pages in the tree.
    pub fn pages(&self) -> usize {
        self.nodes.len() - self.free.len()
    }

    pub fn stats(&self) -> PrefixStats {
        self.stats
    }

    fn node(&self, i: usize) -> &Node {
        self.nodes[i].as_ref().expect("live node")
    }

    fn node_mut(&mut self, i: usize) -> &mut Node {
        self.nodes[i].as_mut().expect("live node")
    }

    fn children(&self, parent: Option<usize>) -> &[usize] {
        match parent {
            Some(p) => &self.node(p).children,
            None => &self.roots,
        }
    }

    /// The path of nodes matching the longest cached prefix of `tokens` (at most `limit`
    /// tokens) and its length in tokens.
    fn find(&self, tokens: &[u32], limit: usize) -> (Vec<usize>, usize) {
        let limit = limit.min(tokens.len());
        let (mut path, mut matched, mut parent) = (Vec::new(), 0, None);
        while matched < limit {
            let rest = &tokens[matched..limit];
            let best = self
                .children(parent)
                .iter()
                .map(|&c| (c, common_prefix(&self.node(c).tokens, rest)))
                .max_by_key(|&(c, n)| (n, self.node(c).tokens.len() == PAGE));
            let Some((child, n)) = best.filter(|&(_, n)| n > 0) else { break };
            path.push(child);
            matched += n;
            if n < PAGE {
                break;
            }
            parent = Some(child);
        }
        (path, matched)
    }

    /// Tokens of the longest cached prefix of `tokens` (no side effects; for tests and reports).
    pub fn cached_prefix(&self, tokens: &[u32]) -> usize {
        self.find(tokens, tokens.len()).1
    }

    fn touch(&mut self, path: &[usize]) {
        self.clock += 1;
        let now = self.clock;
        for &i in path {
            self.node_mut(i).used = now;
        }
    }

    /// Starts the empty `seq` from the longest cached prefix of `prompt`, leaving at least one
    /// token to feed (its logits are needed). Returns how many tokens were reused.
    pub fn start(&mut self, seq: &mut Sequence, prompt: &[u32]) -> usize {
        assert_eq!(seq.position(), 0, "a sequence starts from a prefix only when empty");
        if !self.enabled() || prompt.len() < 2 {
            return 0;
        }
        let limit = (prompt.len() - 1).min(seq.max_ctx());
        let (path, matched) = self.find(prompt, limit);
        self.stats.lookups += 1;
        self.stats.looked_up_tokens += prompt.len() as u64;
        if matched == 0 {
            return 0;
        }
        self.touch(&path);
        let pages = path.iter().map(|&i| Arc::clone(&self.node(i).page)).collect();
        seq.adopt(&prompt[..matched], pages);
        self.stats.reused_tokens += matched as u64;
        matched
    }

    /// Records `seq`'s pages under its tokens so later sequences can start from them: every
    /// full page, and its last, partly filled page too when `partial` (a sequence that is done;
    /// a live one would copy that page on its next write). Then evicts down to the budget.
    pub fn insert(&mut self, seq: &Sequence, partial: bool) {
        if !self.enabled() {
            return;
        }
        let tokens = seq.tokens();
        let n = if partial { tokens.len() } else { tokens.len() / PAGE * PAGE };
        if n == 0 {
            return;
        }
        let pages = seq.shared_pages(n);
        let page_bytes = seq.page_bytes();
        let mut parent = None;
        let mut path = Vec::new();
        for (i, page) in pages.into_iter().enumerate() {
            let label = &tokens[i * PAGE..((i + 1) * PAGE).min(n)];
            let siblings = self.children(parent);
            // A node already holding these tokens (or more of them) covers this page.
            if let Some(&c) = siblings.iter().find(|&&c| self.node(c).tokens.starts_with(label)) {
                path.push(c);
                parent = Some(c);
                continue;
            }
            // A shorter last page of another sequence is replaced by this one, which covers it.
            if let Some(&c) = siblings.iter().find(|&&c| label.starts_with(&self.node(c).tokens) && self.node(c).children.is_empty()) {
                let node = self.node_mut(c);
                node.tokens = label.to_vec();
                node.page = page;
                path.push(c);
                parent = Some(c);
                continue;
            }
            let node = Node { parent, tokens: label.to_vec(), page, children: Vec::new(), used: 0 };
            let id = match self.free.pop() {
                Some(id) => {
                    self.nodes[id] = Some(node);
                    id
                }
                None => {
                    self.nodes.push(Some(node));
                    self.nodes.len() - 1
                }
            };
            match parent {
                Some(p) => self.node_mut(p).children.push(id),
                None => self.roots.push(id),
            }
            self.bytes += page_bytes;
            self.stats.inserted_pages += 1;
            path.push(id);
            parent = Some(id);
        }
        self.touch(&path);
        self.evict(page_bytes);
    }

    /// Drops least recently used leaves that no sequence holds until the tree fits the budget.
    fn evict(&mut self, page_bytes: usize) {
        while self.bytes > self.budget {
            let victim = self
                .nodes
                .iter()
                .enumerate()
                .filter_map(|(i, n)| n.as_ref().map(|n| (i, n)))
                .filter(|(_, n)| n.children.is_empty() && Arc::strong_count(&n.page) == 1)
                .min_by_key(|(_, n)| n.used)
                .map(|(i, _)| i);
            let Some(i) = victim else { return };
            let node = self.nodes[i].take().expect("live node");
            match node.parent {
                Some(p) => self.node_mut(p).children.retain(|&c| c != i),
                None => self.roots.retain(|&c| c != i),
            }
            self.free.push(i);
            self.bytes -= page_bytes;
            self.stats.evicted_pages += 1;
        }
    }

    /// Drops every page no sequence holds.
    pub fn clear(&mut self) {
        let budget = self.budget;
        self.budget = 0;
        if let Some(bytes) = self.nodes.iter().flatten().map(|n| n.page.bytes()).next() {
            self.evict(bytes);
        }
        self.budget = budget;
    }
}
