//! Turning what an LLM actually wrote into an answer and a confidence.
//!
//! Models answer in many shapes: `Answer: B`, `**B**`, `The answer is (B).`, `B) 42`,
//! JSON `{"answer": "B", "confidence": 0.8}`, a chain of thought ending in a number,
//! `Confidence: 80%`, `0.8`, `high`. This module maps them onto the ask's answer space
//! (option letters, numbers, the candidates of a judge, `ok`/`wrong` for checks) without
//! guessing: when nothing fits, `answer` is `None`, the raw text is kept by the caller,
//! and the engine logs and counts it (metric `unparsed`) rather than dropping it.
//!
//! Hand-written scanning rather than a regex crate: the rules are ordered heuristics over
//! lines and tokens that read more clearly as code, and core stays small in wasm.

use crate::exchange::{AgentReply, AskRequest};
use crate::tasks::letter;

/// What a reply said, as far as it can be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The answer in the ask's answer space, `None` when it could not be read.
    pub answer: Option<String>,
    /// Stated confidence in [0, 1], when the reply gave one.
    pub confidence: Option<f64>,
    /// The reasoning, without the answer and confidence lines (short).
    pub explanation: String,
}

/// The most text of an explanation kept for peers' prompts.
pub const MAX_EXPLANATION: usize = 300;

/// Parses `text` as a reply to `req` (its format, options and purpose).
pub fn parse(req: &AskRequest, text: &str) -> Parsed {
    parse_with(&req.format, &req.purpose, &req.options, text)
}

/// An `AgentReply` for `req` from the model's text (answer `None` when unparseable).
pub fn reply(req: &AskRequest, text: &str, tokens: u32) -> AgentReply {
    let p = parse(req, text);
    AgentReply::from_text(p.answer, p.confidence, text.to_string(), tokens)
}

/// Parses `text` for an ask with `format` (`option`, `number`, `text`), `purpose` and
/// `options` (option texts; for `judge`, the candidate answers).
pub fn parse_with(format: &str, purpose: &str, options: &[String], text: &str) -> Parsed {
    let body = strip_thinking(text);
    let space = Space::of(format, purpose, options);
    let json = json_fields(&body);
    let confidence = json.as_ref().and_then(|j| j.confidence).or_else(|| find_confidence(&body, &space));
    let answer = json
        .as_ref()
        .and_then(|j| j.answer.as_deref().and_then(|a| space.map_value(a)))
        .or_else(|| find_answer(&body, &space))
        .or_else(|| (matches!(space, Space::Bid) && confidence.is_some()).then(|| "bid".to_string()));
    let explanation = json
        .as_ref()
        .and_then(|j| j.explanation.clone())
        .unwrap_or_else(|| explanation(&body));
    Parsed { answer, confidence, explanation }
}

// ---------------------------------------------------------------------------------
// Answer spaces

/// What kind of answer an ask expects.
#[derive(Debug)]
enum Space<'a> {
    /// One of the options, answered by letter (A, B, ...).
    Letter(&'a [String]),
    /// A number.
    Number,
    /// One of the options, answered by its text (e.g. grid moves).
    Choice(&'a [String]),
    /// One of the candidates (returned as the candidate's text).
    Candidate(&'a [String]),
    /// `ok` or `wrong`.
    Verdict,
    /// A bid: the answer is `bid`, the confidence is the bid.
    Bid,
    /// Free text (plans, open answers).
    Free,
}

impl<'a> Space<'a> {
    fn of(format: &str, purpose: &str, options: &'a [String]) -> Self {
        match purpose {
            "judge" if !options.is_empty() => Space::Candidate(options),
            "check" => Space::Verdict,
            "bid" => Space::Bid,
            "plan" => Space::Free,
            _ => match format {
                "option" if !options.is_empty() => Space::Letter(options),
                "number" => Space::Number,
                _ if !options.is_empty() => Space::Choice(options),
                _ => Space::Free,
            },
        }
    }

    /// Maps the text that follows an answer marker (or a JSON value) to an answer.
    fn map_value(&self, tail: &str) -> Option<String> {
        let t = trim_decoration(tail);
        if t.is_empty() {
            return None;
        }
        match self {
            Space::Letter(opts) => leading_letter(t, opts.len())
                .or_else(|| option_by_value(t, opts).map(letter))
                .or_else(|| unique_option_mention(t, opts).map(letter)),
            Space::Number => first_number(t).map(|(v, _, _)| v),
            Space::Choice(opts) => option_by_value(t, opts)
                .or_else(|| unique_option_mention(t, opts))
                .map(|i| opts[i].clone()),
            Space::Candidate(c) => candidate(t, c).map(|i| c[i].clone()),
            Space::Verdict => verdict(t).map(str::to_string),
            Space::Bid => (first_number(t).is_some() || level_word(t).is_some()).then(|| "bid".to_string()),
            Space::Free => {
                let line = t.lines().next().unwrap_or("").trim().trim_end_matches(['.', '*']).trim();
                (!line.is_empty()).then(|| cap(line, 500))
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Cleaning

/// Removes `<think>...</think>` blocks (reasoning models); an unclosed block is kept,
/// since it may be all the model wrote.
fn strip_thinking(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let lower = rest.to_ascii_lowercase();
        match lower.find("<think>") {
            Some(start) => match lower[start..].find("</think>") {
                Some(end) => {
                    out.push_str(&rest[..start]);
                    rest = &rest[start + end + "</think>".len()..];
                }
                None => {
                    out.push_str(rest);
                    break;
                }
            },
            None => {
                out.push_str(rest);
                break;
            }
        }
    }
    out
}

/// Strips markdown emphasis, quotes, brackets and "option"/"choice"/"letter" words
/// from the start of a value, and trailing punctuation noise.
fn trim_decoration(s: &str) -> &str {
    let mut t = s.trim_start();
    loop {
        let before = t;
        t = t.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '*' | '_' | '`' | '"' | '\'' | '[' | '(' | '{' | ':' | '=' | '>' | '$' | '#'));
        for w in ["option ", "choice ", "letter ", "candidate ", "is ", "would be ", "should be ", "of ", "probably ", "likely ", "definitely "] {
            if t.get(..w.len()).is_some_and(|p| p.eq_ignore_ascii_case(w)) {
                t = &t[w.len()..];
            }
        }
        // A dash used as a separator ("Answer - B"), not a minus sign ("-5").
        if let Some(r) = t.strip_prefix('-')
            && r.starts_with(char::is_whitespace)
        {
            t = r;
        }
        if let Some(r) = t.strip_prefix("\\boxed{").or_else(|| t.strip_prefix("\\text{")) {
            t = r;
        }
        if t == before {
            break;
        }
    }
    t.trim_end()
}

fn cap(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n).collect();
        out.push('…');
        out
    }
}

// ---------------------------------------------------------------------------------
// JSON replies

struct JsonFields {
    answer: Option<String>,
    confidence: Option<f64>,
    explanation: Option<String>,
}

/// The first JSON object in the text that has an answer or confidence field.
fn json_fields(text: &str) -> Option<JsonFields> {
    let bytes = text.as_bytes();
    let mut start = 0;
    while let Some(off) = text[start..].find('{') {
        let open = start + off;
        if let Some(close) = matching_brace(bytes, open)
            && let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&text[open..=close])
        {
            {
                let get = |names: &[&str]| {
                    map.iter().find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n))).map(|(_, v)| v.clone())
                };
                let answer = get(&["answer", "final_answer", "finalAnswer", "choice", "option", "result", "verdict", "plan"]).and_then(|v| match v {
                    serde_json::Value::String(s) => Some(s),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    serde_json::Value::Bool(b) => Some(if b { "ok".into() } else { "wrong".into() }),
                    _ => None,
                });
                let confidence = get(&["confidence", "conf", "certainty", "probability", "bid"]).and_then(|v| match v {
                    serde_json::Value::Number(n) => n.as_f64().and_then(|x| to_unit(x, false)),
                    serde_json::Value::String(s) => level_word(&s).or_else(|| first_number(&s).and_then(|(_, x, pct)| to_unit(x, pct))),
                    _ => None,
                });
                let explanation = get(&["explanation", "reason", "reasoning", "rationale", "justification"])
                    .and_then(|v| v.as_str().map(|s| cap(s.trim(), MAX_EXPLANATION)));
                if answer.is_some() || confidence.is_some() {
                    return Some(JsonFields { answer, confidence, explanation });
                }
            }
        }
        start = open + 1;
    }
    None
}

/// Index of the `}` closing the `{` at `open`, skipping braces inside strings.
fn matching_brace(bytes: &[u8], open: usize) -> Option<usize> {
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

// ---------------------------------------------------------------------------------
// Finding the answer

/// Markers that start an answer at the beginning of a line ("Answer: B").
const LINE_MARKERS: &[&str] = &["final answer", "answer", "verdict", "decision", "choice", "bid", "plan", "solution", "result"];

/// Phrases after which the answer follows anywhere in a sentence.
const PHRASES: &[&str] = &[
    "final answer is",
    "final answer:",
    "answer is",
    "answer would be",
    "answer should be",
    "answer remains",
    "answer stays",
    "i choose",
    "i pick",
    "i select",
    "i'll go with",
    "i will go with",
    "i go with",
    "i'm going with",
    "i stick with",
    "i'll stick with",
    "i will stick with",
    "i agree with option",
    "my choice is",
    "my answer is",
    "correct option is",
    "correct choice is",
    "correct answer is",
    "best answer is",
    "best candidate is",
    "the result is",
];

fn find_answer(body: &str, space: &Space) -> Option<String> {
    let plain = body.replace(['*', '`'], "");
    // 1. "Answer: X" lines (the format our prompts ask for); the last one wins, as a
    //    model that corrects itself restates its answer at the end.
    let mut best = None;
    for line in plain.lines() {
        let l = line.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '#' | '>' | '-' | '_'));
        let lower = l.to_ascii_lowercase();
        for m in LINE_MARKERS {
            if let Some(rest) = lower.strip_prefix(m) {
                let rest_orig = &l[m.len()..];
                let sep = rest.trim_start();
                if sep.starts_with([':', '=', '-']) || (sep.starts_with('(') && sep.contains("):")) {
                    let after = rest_orig.trim_start();
                    let after = after.split_once(':').filter(|_| sep.starts_with('(')).map_or(after, |(_, r)| r);
                    if let Some(v) = space.map_value(after) {
                        best = Some(v);
                    }
                    break;
                }
            }
        }
    }
    if best.is_some() {
        return best;
    }
    // 2. "... the answer is (B)." anywhere; the last phrase wins.
    let lower = plain.to_ascii_lowercase();
    let mut hits: Vec<(usize, String)> = Vec::new();
    for p in PHRASES {
        let mut from = 0;
        while let Some(off) = lower[from..].find(p) {
            let end = from + off + p.len();
            let tail = &plain[end..];
            let tail = tail.split(['\n']).next().unwrap_or("");
            if let Some(v) = space.map_value(first_clause(tail)) {
                hits.push((from + off, v));
            }
            from = end;
        }
    }
    if let Some((_, v)) = hits.into_iter().max_by_key(|h| h.0) {
        return Some(v);
    }
    // 3. \boxed{X}
    if let Some(i) = body.rfind("\\boxed{") {
        let inner = &body[i + 7..];
        let inner = inner.split('}').next().unwrap_or("");
        if let Some(v) = space.map_value(inner) {
            return Some(v);
        }
    }
    // 4. The first bold value that fits (**B**, **42**).
    for chunk in body.split("**").skip(1).step_by(2) {
        if chunk.len() <= 60
            && !matches!(space, Space::Free)
            && let Some(v) = space.map_value(chunk)
        {
            return Some(v);
        }
    }
    fallback(&plain, space)
}

/// The part of a sentence up to the first full stop that ends it (keeps "3.5").
fn first_clause(s: &str) -> &str {
    let b = s.as_bytes();
    for i in 0..b.len() {
        if matches!(b[i], b'.' | b'!' | b'?' | b';') && b.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()) {
            return &s[..=i];
        }
    }
    s
}

/// When no marker says where the answer is.
fn fallback(plain: &str, space: &Space) -> Option<String> {
    let text = without_confidence(plain);
    let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    match space {
        Space::Letter(opts) => {
            // The reply starts with a label ("B", "B) 42", "(B) because ...").
            if let Some(l) = leading_letter(trim_decoration(first), opts.len()) {
                return Some(l);
            }
            // Exactly one distinct standalone letter (e.g. "I think it's B.").
            let letters = standalone_letters(&text, opts.len());
            if letters.len() == 1 {
                return Some(letters[0].clone());
            }
            if letters.is_empty() {
                // Exactly one option value mentioned ("7 × 8 = 56, so 56.").
                return unique_option_mention(&text, opts).map(letter);
            }
            None
        }
        Space::Number => {
            // A bare number, else the last number of the reasoning (as GSM8K graders do).
            let mut last = None;
            let mut rest = text.as_str();
            while let Some((v, _, pct)) = first_number(rest) {
                if !pct {
                    last = Some(v.clone());
                }
                let pos = number_end(rest);
                rest = &rest[pos..];
            }
            last
        }
        Space::Choice(opts) => unique_option_mention(&text, opts).map(|i| opts[i].clone()),
        Space::Candidate(c) => candidate(first, c).map(|i| c[i].clone()),
        Space::Verdict => verdict(first).or_else(|| verdict(&text)).map(str::to_string),
        Space::Bid => (first_number(&text).is_some() || level_word(&text).is_some()).then(|| "bid".to_string()),
        Space::Free => {
            let t = text.trim();
            (!t.is_empty()).then(|| cap(t, 2000))
        }
    }
}

/// `A`..: the letter at the start of `t` when it is a label, not a word ("A) 42",
/// "B.", "c", but not "A bag" or "Because").
fn leading_letter(t: &str, n: usize) -> Option<String> {
    let mut chars = t.chars();
    let c = chars.next()?;
    let up = c.to_ascii_uppercase();
    if !up.is_ascii_uppercase() || (up as u8 - b'A') as usize >= n {
        return None;
    }
    let rest = chars.as_str();
    let next = rest.chars().next();
    match next {
        None => Some(up.to_string()),
        Some(ch) if ch.is_alphanumeric() || ch == '\'' || ch == '’' => None,
        Some(ch) if ch.is_whitespace() => {
            // "A bag of ..." / "a lot": an article, not a label.
            let word = rest.trim_start();
            let starts_lower = word.chars().next().is_some_and(|w| w.is_lowercase());
            let article = (c == 'A' || c == 'a') && starts_lower && !follows_label(word);
            // "b then" reads as a label only in upper case; "c of" is a word.
            let lower_word = c.is_lowercase() && word.chars().next().is_some_and(char::is_alphabetic);
            (!article && !lower_word).then(|| up.to_string())
        }
        Some(_) => Some(up.to_string()),
    }
}

/// Words that follow an option label but not the article "a" ("A or B", "A is right").
fn follows_label(word: &str) -> bool {
    const W: &[&str] = &["or", "and", "is", "was", "seems", "looks", "might", "could", "would", "should", "because", "since", "as", "but", "then", "vs", "nor", "has", "fits", "matches"];
    let w: String = word.chars().take_while(|c| c.is_alphabetic()).collect();
    W.contains(&w.as_str())
}

/// Distinct uppercase option letters that stand alone as words in `text`.
fn standalone_letters(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found: Vec<String> = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_uppercase() || (c as u8 - b'A') as usize >= n {
            continue;
        }
        let prev_ok = i == 0 || !chars[i - 1].is_alphanumeric();
        let next = chars.get(i + 1).copied();
        let next_ok = next.is_none_or(|x| !x.is_alphanumeric() && x != '\'' && x != '’');
        if !prev_ok || !next_ok {
            continue;
        }
        // "A bag ..." is an article; "A or B", "A is right" are labels.
        if c == 'A' && next == Some(' ') && chars.get(i + 2).is_some_and(|x| x.is_lowercase()) {
            let word: String = chars[i + 2..].iter().take(12).collect();
            if !follows_label(&word) {
                continue;
            }
        }
        let s = c.to_string();
        if !found.contains(&s) {
            found.push(s);
        }
    }
    found
}

/// Index of the option whose text `t` starts with (as a whole value: "56", "56 apples").
fn option_by_value(t: &str, opts: &[String]) -> Option<usize> {
    let t = t.trim();
    if let Some((v, _, _)) = first_number(t).filter(|_| number_end(t) > 0 && starts_with_number(t))
        && let Some(i) = opts.iter().position(|o| strip_commas(o).parse::<f64>().is_ok_and(|x| number_text(x) == v))
    {
        return Some(i);
    }
    let word = t.trim_end_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace());
    if let Some(i) = opts.iter().position(|o| o.eq_ignore_ascii_case(word)) {
        return Some(i);
    }
    let lower = t.to_ascii_lowercase();
    opts.iter().position(|o| {
        let o = o.to_ascii_lowercase();
        !o.is_empty() && lower.starts_with(&o) && lower[o.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric())
    })
}

fn starts_with_number(t: &str) -> bool {
    let t = t.trim_start_matches(['$', '€', '£', '+']);
    let t = t.strip_prefix('-').unwrap_or(t);
    t.starts_with(|c: char| c.is_ascii_digit())
}

/// The one option whose value appears in `t` as a whole token (none or several: None).
fn unique_option_mention(t: &str, opts: &[String]) -> Option<usize> {
    let lower = t.to_ascii_lowercase();
    let numbers = all_numbers(t);
    let hits: Vec<usize> = (0..opts.len())
        .filter(|&i| {
            let o = strip_commas(&opts[i]);
            if let Ok(x) = o.parse::<f64>() {
                numbers.contains(&number_text(x))
            } else {
                contains_word(&lower, &opts[i].to_ascii_lowercase())
            }
        })
        .collect();
    (hits.len() == 1).then(|| hits[0])
}

fn contains_word(hay: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let mut from = 0;
    while let Some(off) = hay[from..].find(word) {
        let s = from + off;
        let e = s + word.len();
        let before = hay[..s].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after = hay[e..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        if before && after {
            return true;
        }
        from = s + 1;
        while !hay.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

/// A judge's pick: a candidate's own value, or "candidate 2" / "#2" / "2" by position.
fn candidate(t: &str, c: &[String]) -> Option<usize> {
    let lower = t.to_ascii_lowercase();
    let by_index = |s: &str| -> Option<usize> {
        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<usize>().ok().filter(|&k| k >= 1 && k <= c.len()).map(|k| k - 1)
    };
    for key in ["candidate ", "candidate #", "#"] {
        if let Some(i) = lower.find(key)
            && let Some(k) = by_index(&lower[i + key.len()..])
        {
            return Some(k);
        }
    }
    if let Some(i) = option_by_value(t, c) {
        return Some(i);
    }
    if c.iter().all(|x| x.chars().count() == 1) {
        // Candidates that are option letters ("B", "C"): a letter label picks one.
        if let Some(l) = leading_letter(t, 26)
            && let Some(i) = c.iter().position(|x| x.eq_ignore_ascii_case(&l))
        {
            return Some(i);
        }
    }
    by_index(t.trim())
}

/// `ok` or `wrong` from a checker's words (negations first: "not correct" is wrong).
fn verdict(t: &str) -> Option<&'static str> {
    let l = t.to_ascii_lowercase();
    const NEG: &[&str] = &[
        "not correct", "incorrect", "wrong", "not ok", "not right", "mistake", "error", "does not check", "doesn't check", "flawed", "invalid", "not valid", "disagree", "false",
    ];
    const POS: &[&str] = &["correct", "ok", "okay", "right", "checks out", "valid", "true", "agree", "fine", "yes", "looks good"];
    let first = |words: &[&str]| words.iter().filter_map(|w| find_word(&l, w)).min();
    match (first(NEG), first(POS)) {
        (Some(n), Some(p)) => Some(if n <= p { "wrong" } else { "ok" }),
        (Some(_), None) => Some("wrong"),
        (None, Some(_)) => Some("ok"),
        (None, None) => {
            if l.trim_start().starts_with("no") && !l.trim_start()[2..].starts_with(char::is_alphabetic) {
                Some("wrong")
            } else {
                None
            }
        }
    }
}

/// Position of `w` in `hay` as a whole word.
fn find_word(hay: &str, w: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(off) = hay[from..].find(w) {
        let s = from + off;
        let e = s + w.len();
        let before = hay[..s].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after = hay[e..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        if before && after {
            return Some(s);
        }
        from = e;
    }
    None
}

// ---------------------------------------------------------------------------------
// Numbers

fn strip_commas(s: &str) -> String {
    s.trim().replace(',', "")
}

/// Byte offset where the first free-standing number in `s` starts (digits that end a word,
/// as in "Q4" or "x2", are part of that word, not a number).
fn number_start(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            if i > 0 && (b[i - 1].is_ascii_alphabetic() || b[i - 1] == b'_') {
                while i < b.len() && b[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The first number in `s`: (normalized text, value, had a % sign). Accepts thousands
/// separators ("1,234"), decimals, a sign, currency symbols and trailing units.
fn first_number(s: &str) -> Option<(String, f64, bool)> {
    let b = s.as_bytes();
    let i = number_start(s)?;
    let neg = i > 0 && b[i - 1] == b'-' && (i < 2 || !b[i - 2].is_ascii_alphanumeric());
    let (text, end) = scan_number(s, i);
    let pct = s[end..].trim_start().starts_with('%');
    let mut v: f64 = text.parse().ok()?;
    if neg {
        v = -v;
    }
    Some((number_text(v), v, pct))
}

/// Canonical text of a number: "42", "1234.5", "-5".
fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v}") }
}

/// Byte offset just past the first number in `s` (0 if none).
fn number_end(s: &str) -> usize {
    number_start(s).map_or(0, |i| scan_number(s, i).1)
}

/// Digits from `start` with "1,234" groups and one decimal point: (digits without
/// commas, end offset).
fn scan_number(s: &str, start: usize) -> (String, usize) {
    let b = s.as_bytes();
    let mut i = start;
    let mut out = String::new();
    while i < b.len() && b[i].is_ascii_digit() {
        out.push(b[i] as char);
        i += 1;
    }
    // Thousands groups: ",ddd" not followed by another digit.
    while i + 3 < b.len() + 1 && b.get(i) == Some(&b',') && b[i + 1..].len() >= 3 && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) && b.get(i + 4).is_none_or(|c| !c.is_ascii_digit()) {
        out.push_str(&s[i + 1..i + 4]);
        i += 4;
    }
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        out.push('.');
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            out.push(b[i] as char);
            i += 1;
        }
    }
    (out, i)
}

fn all_numbers(s: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mut rest = s;
    while let Some((n, _, _)) = first_number(rest) {
        v.push(n);
        let e = number_end(rest);
        rest = &rest[e..];
    }
    v
}

// ---------------------------------------------------------------------------------
// Confidence

/// Words for confidence levels, most specific first.
const LEVELS: &[(&str, f64)] = &[
    ("very high", 0.95),
    ("very low", 0.15),
    ("extremely high", 0.97),
    ("absolutely certain", 0.99),
    ("certain", 0.95),
    ("high", 0.85),
    ("fairly high", 0.75),
    ("moderate", 0.6),
    ("medium", 0.6),
    ("fair", 0.6),
    ("unsure", 0.35),
    ("uncertain", 0.35),
    ("low", 0.3),
];

/// A confidence word at the start of `s` ("high", "Medium", "very low").
fn level_word(s: &str) -> Option<f64> {
    let l = trim_decoration(s).to_ascii_lowercase();
    let mut best: Option<(usize, f64)> = None;
    for (w, v) in LEVELS {
        if l.starts_with(w) && l[w.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric()) && best.is_none_or(|b| w.len() > b.0) {
            best = Some((w.len(), *v));
        }
    }
    best.map(|b| b.1)
}

/// A stated number as a probability: 0.8, 80 (%), 8/10.
fn to_unit(x: f64, pct: bool) -> Option<f64> {
    if !x.is_finite() || x < 0.0 {
        return None;
    }
    let v = if pct || x > 1.0 { x / 100.0 } else { x };
    (v <= 1.0).then_some(v)
}

/// The stated confidence: after "confidence"/"certainty"/"sure" (a number, a fraction or a
/// word), before "confident"/"sure" ("I am 90% sure"), or a line holding only a
/// probability or a level word.
fn find_confidence(body: &str, space: &Space) -> Option<f64> {
    let plain = body.replace(['*', '`', '_'], "");
    let lower = plain.to_ascii_lowercase();
    let keys: &[&str] = if matches!(space, Space::Bid) { &["confidence", "certainty", "probability", "bid"] } else { &["confidence", "certainty", "probability"] };
    for key in keys {
        let mut from = 0;
        while let Some(off) = lower[from..].find(key) {
            let end = from + off + key.len();
            if let Some(v) = value_after(&plain[end..]) {
                return Some(v);
            }
            from = end;
        }
    }
    for key in ["confident", "sure", "certain", "confidence"] {
        let mut from = 0;
        while let Some(off) = lower[from..].find(key) {
            let at = from + off;
            if let Some(v) = percent_before(&lower[..at]) {
                return Some(v);
            }
            from = at + key.len();
        }
    }
    // A line that is only "0.8", "80%" or "high" after a first line with the answer.
    for line in plain.lines().skip(1).map(str::trim) {
        if line.is_empty() {
            continue;
        }
        if let Some(v) = level_word(line).filter(|_| line.split_whitespace().count() <= 2) {
            return Some(v);
        }
        if !matches!(space, Space::Number)
            && number_end(line) == line.trim_end_matches('%').len()
            && starts_with_number(line)
            && let Some((_, x, pct)) = first_number(line)
            && (pct || line.contains('.'))
            && let Some(v) = to_unit(x, pct)
        {
            return Some(v);
        }
    }
    None
}

/// The value that follows a confidence keyword: ": 80%", " level: high", " = 0.8",
/// " (8/10)", " of 4 out of 5".
fn value_after(s: &str) -> Option<f64> {
    let mut t = s;
    for _ in 0..4 {
        let before = t;
        t = t.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '=' | '-' | '(' | '[' | '~' | '"' | '\''));
        for w in ["level", "score", "is", "of", "about", "around", "approximately", "roughly", "rating", "i have", "i'd say", "i would say"] {
            if t.get(..w.len()).is_some_and(|p| p.eq_ignore_ascii_case(w)) && t.as_bytes().get(w.len()).is_some_and(|c| !c.is_ascii_alphabetic()) {
                t = &t[w.len()..];
            }
        }
        if t == before {
            break;
        }
    }
    let head: String = t.chars().take(40).collect();
    if starts_with_number(&head) {
        let (_, x, pct) = first_number(&head)?;
        let e = number_end(&head);
        let after = head[e..].trim_start().to_ascii_lowercase();
        for sep in ["/", "out of"] {
            if let Some(r) = after.strip_prefix(sep)
                && let Some((_, d, _)) = first_number(r).filter(|(_, d, _)| *d > 0.0)
            {
                return Some((x / d).clamp(0.0, 1.0));
            }
        }
        return to_unit(x, pct);
    }
    level_word(&head)
}

/// "90% sure" / "I'm 0.9 confident": a number just before the word.
fn percent_before(before: &str) -> Option<f64> {
    let t = before.trim_end();
    let t = t.strip_suffix("percent").map(str::trim_end).unwrap_or(t);
    let pct = t.ends_with('%') || before.trim_end().ends_with("percent");
    let t = t.trim_end_matches('%');
    let start = t.rfind(|c: char| !(c.is_ascii_digit() || c == '.')).map_or(0, |i| i + 1);
    let num = &t[start..];
    if num.is_empty() || t.len() - start > 6 {
        return None;
    }
    let x: f64 = num.parse().ok()?;
    to_unit(x, pct)
}

/// `text` without the lines that state a confidence (so "80%" is not taken for an answer).
fn without_confidence(text: &str) -> String {
    text.lines()
        .filter(|l| {
            let l = l.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '#' | '>' | '-' | '(')).to_ascii_lowercase();
            !["confidence", "certainty", "probability"].iter().any(|k| l.starts_with(k))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------------
// Explanation

/// The reasoning of a reply, without answer/confidence lines, cut to `MAX_EXPLANATION`
/// characters. Also reads the simulated agents' "B, confidence 0.80: reason" form.
pub fn explanation(text: &str) -> String {
    let body = strip_thinking(text);
    let trimmed = body.trim();
    // Simulated agents' one-liners.
    if let Some((head, rest)) = trimmed.split_once(": ")
        && head.contains(", confidence ")
        && !head.contains('\n')
    {
        return cap(rest.trim(), MAX_EXPLANATION);
    }
    let mut keep: Vec<&str> = Vec::new();
    for line in trimmed.lines() {
        let l = line.trim().trim_start_matches(['*', '#', '-', '>', ' ']).to_ascii_lowercase();
        let l = l.replace('*', "");
        let is_marker = ["final answer", "answer", "confidence", "verdict", "bid", "certainty"]
            .iter()
            .any(|m| l.starts_with(m) && l[m.len()..].trim_start().starts_with([':', '=', '-']));
        if is_marker || l.trim().is_empty() {
            continue;
        }
        keep.push(line.trim());
    }
    let mut s = keep.join(" ");
    for p in ["Explanation:", "Reason:", "Reasoning:", "Because:", "Why:", "**Explanation:**", "**Reasoning:**"] {
        if let Some(r) = s.strip_prefix(p) {
            s = r.trim_start().to_string();
        }
    }
    cap(s.trim(), MAX_EXPLANATION)
}

#[cfg(test)]
mod tests;
