//! Chat templates: the model's `tokenizer.chat_template` (Jinja) rendered with minijinja the
//! way Hugging Face's `apply_chat_template` and llama.cpp's Jinja path do (`trim_blocks` and
//! `lstrip_blocks` on, loop controls, Python string methods, `raise_exception`).
//!
//! `strftime_now` is deliberately not defined: templates that use it (Llama 3.1+) then fall
//! back to their built-in date, which keeps renders reproducible and works in wasm.
//!
//! A template comes from a stranger's model file, so it runs on budgets: the source is at
//! most [`MAX_TEMPLATE_BYTES`] before it is compiled; each render gets [`RENDER_FUEL`]
//! (minijinja charges every instruction, every byte of data a string or list operation
//! creates and every item a filter visits, so nested loops, `range` products and doubling
//! `s ~ s` all run out), a recursion limit of [`MAX_RECURSION`] (macros, recursive loops)
//! and at most [`MAX_RENDER_BYTES`] of output. Exhausting any of them is a
//! [`TokenizerError::Template`], never an abort, a hang or unbounded memory.

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, Error, ErrorKind, Value};

use super::TokenizerError;

/// Longest chat template compiled (real ones are 1-20 KiB).
pub const MAX_TEMPLATE_BYTES: usize = 128 << 10;
/// Work budget of one render, in minijinja fuel: one unit per instruction, or per 64
/// bytes of data created (so at most ~64 MiB of strings and lists in all). Real templates
/// on a long conversation use a few thousand.
pub const RENDER_FUEL: u64 = 1_000_000;
/// Nesting budget of one render (minijinja counts 1 per loop or `if`, ~10 per macro call).
pub const MAX_RECURSION: usize = 100;
/// Longest rendered prompt (1 MiB, what [`super::MAX_ENCODE_BYTES`] allows encoding).
pub const MAX_RENDER_BYTES: usize = super::MAX_ENCODE_BYTES;

/// One chat turn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            content: content.into(),
        }
    }
}

/// A compiled chat template plus the token texts it may refer to.
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate")
            .field("bos_token", &self.bos_token)
            .finish_non_exhaustive()
    }
}

fn raise_exception(message: String) -> Result<Value, Error> {
    Err(Error::new(ErrorKind::InvalidOperation, message))
}

/// Widest field a Python-style `str.format` may ask for: minijinja-contrib pads before
/// fuel sees the result (`'{:>1000000000}'.format(1)` would be a gigabyte).
const MAX_FORMAT_WIDTH: u64 = 10_000;

/// Python string and list methods (minijinja-contrib), with `str.format` field widths
/// bounded first.
fn python_methods(state: &mut minijinja::State, value: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    if method == "format"
        && let Some(s) = value.as_str()
        && widest_format_field(s) > MAX_FORMAT_WIDTH
    {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("str.format field wider than {MAX_FORMAT_WIDTH} characters"),
        ));
    }
    minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
}

/// The largest number written in any `{...}` replacement field's format spec.
fn widest_format_field(s: &str) -> u64 {
    let mut widest = 0u64;
    for field in s.split('{').skip(1) {
        let spec = field.split('}').next().unwrap_or("");
        let Some((_, spec)) = spec.split_once(':') else { continue };
        for run in spec.split(|c: char| !c.is_ascii_digit()).filter(|r| !r.is_empty()) {
            widest = widest.max(run.parse::<u64>().unwrap_or(u64::MAX));
        }
    }
    widest
}

/// The `sum` filter for numbers only: summing lists (`start=[]`) would chain them.
fn sum_numbers(
    state: &minijinja::State,
    values: Value,
    attribute: Option<&str>,
    start: Option<Value>,
    kwargs: minijinja::value::Kwargs,
) -> Result<Value, Error> {
    let start = match start {
        Some(s) => Some(s),
        None => kwargs.get::<Option<Value>>("start")?,
    };
    if let Some(s) = &start
        && !matches!(s.kind(), minijinja::value::ValueKind::Number | minijinja::value::ValueKind::Bool)
    {
        return Err(Error::new(ErrorKind::InvalidOperation, "sum adds numbers only in chat templates"));
    }
    minijinja::filters::sum(state, values, attribute, start, kwargs)
}

impl ChatTemplate {
    /// Compiles `source`; `bos_token`/`eos_token` are exposed to it as variables.
    pub fn new(source: &str, bos_token: &str, eos_token: &str) -> Result<Self, TokenizerError> {
        if source.len() > MAX_TEMPLATE_BYTES {
            return Err(TokenizerError::Template(format!(
                "chat template is {} bytes, more than the {} KiB limit",
                source.len(),
                MAX_TEMPLATE_BYTES >> 10
            )));
        }
        let syntax = SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| TokenizerError::Template(e.to_string()))?;
        if let Some(why) = super::template_guard::check(source, syntax.clone()) {
            return Err(TokenizerError::Template(format!("chat template refused: {why}")));
        }
        let mut env = Environment::new();
        env.set_fuel(Some(RENDER_FUEL));
        env.set_recursion_limit(MAX_RECURSION);
        env.set_syntax(syntax);
        env.set_unknown_method_callback(python_methods);
        env.add_function("raise_exception", raise_exception);
        // See template_guard: list chains are what fuel does not charge.
        env.remove_filter("chain");
        env.add_filter("sum", sum_numbers);
        env.add_template_owned("chat", source.to_owned())
            .map_err(|e| {
                TokenizerError::Template(format!("cannot compile chat template: {e:#}"))
            })?;
        Ok(Self {
            env,
            bos_token: bos_token.to_owned(),
            eos_token: eos_token.to_owned(),
        })
    }

    /// Renders the conversation; with `add_generation_prompt` the text ends where the
    /// assistant's reply should begin.
    pub fn render(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String, TokenizerError> {
        let messages: Vec<Value> = messages
            .iter()
            .map(|m| {
                Value::from_pairs([
                    ("role", Value::from(m.role.as_str())),
                    ("content", Value::from(m.content.as_str())),
                ])
            })
            .collect();
        let ctx = Value::from_pairs([
            ("messages", Value::from(messages)),
            ("add_generation_prompt", Value::from(add_generation_prompt)),
            ("bos_token", Value::from(self.bos_token.as_str())),
            ("eos_token", Value::from(self.eos_token.as_str())),
        ]);
        let template = self.env.get_template("chat").expect("added in new");
        let mut out = Bounded { buf: Vec::new(), limit: MAX_RENDER_BYTES, exceeded: false };
        template.render_captured_to(ctx, &mut out).map_err(|e| {
            let why = match e.kind() {
                ErrorKind::OutOfFuel => format!("used up its budget of {RENDER_FUEL} steps"),
                _ if out.exceeded => {
                    format!("wrote more than the {} KiB limit", MAX_RENDER_BYTES >> 10)
                }
                _ => format!("{e:#}"),
            };
            TokenizerError::Template(format!("chat template failed: {why}"))
        })?;
        String::from_utf8(out.buf)
            .map_err(|_| TokenizerError::Template("chat template failed: output is not UTF-8".into()))
    }
}

/// An output buffer that refuses to grow past `limit` bytes.
struct Bounded {
    buf: Vec<u8>,
    limit: usize,
    exceeded: bool,
}

impl std::io::Write for Bounded {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > self.limit {
            self.exceeded = true;
            return Err(std::io::Error::other("chat template output limit"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
