//! A tiny, safe markdown subset for agent messages: paragraphs, `- ` lists, fenced code,
//! `**bold**`, `*em*` and `` `code` ``. Parsed into plain data and rendered as text nodes
//! only, so no HTML or script in an agent's reply can ever run. (pulldown-cmark would add
//! ~100 KB to the wasm for features agent text does not use.)

use leptos::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub enum Span {
    Text(String),
    Bold(String),
    Em(String),
    Code(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Para(Vec<Span>),
    List(Vec<Vec<Span>>),
    Code(String),
}

pub fn parse(src: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let mut list: Vec<Vec<Span>> = Vec::new();
    let mut code: Option<Vec<&str>> = None;
    let flush = |para: &mut Vec<&str>, list: &mut Vec<Vec<Span>>, out: &mut Vec<Block>| {
        if !para.is_empty() {
            out.push(Block::Para(inline(&para.join(" "))));
            para.clear();
        }
        if !list.is_empty() {
            out.push(Block::List(std::mem::take(list)));
        }
    };
    for line in src.lines() {
        if let Some(c) = code.as_mut() {
            if line.trim_start().starts_with("```") {
                out.push(Block::Code(c.join("\n")));
                code = None;
            } else {
                c.push(line);
            }
            continue;
        }
        let t = line.trim();
        if t.starts_with("```") {
            flush(&mut para, &mut list, &mut out);
            code = Some(Vec::new());
        } else if let Some(item) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) {
            if !para.is_empty() {
                out.push(Block::Para(inline(&para.join(" "))));
                para.clear();
            }
            list.push(inline(item));
        } else if t.is_empty() {
            flush(&mut para, &mut list, &mut out);
        } else {
            if !list.is_empty() {
                out.push(Block::List(std::mem::take(&mut list)));
            }
            para.push(t);
        }
    }
    if let Some(c) = code {
        out.push(Block::Code(c.join("\n")));
    }
    flush(&mut para, &mut list, &mut out);
    out
}

/// Inline spans; an unclosed marker stays literal text.
pub fn inline(s: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let (marker, make): (&str, fn(String) -> Span) = if rest.starts_with("**") {
            ("**", Span::Bold)
        } else if c == '`' {
            ("`", Span::Code)
        } else if c == '*' {
            ("*", Span::Em)
        } else {
            text.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        };
        let after = &rest[marker.len()..];
        match after.find(marker) {
            Some(end) if end > 0 => {
                if !text.is_empty() {
                    out.push(Span::Text(std::mem::take(&mut text)));
                }
                out.push(make(after[..end].to_string()));
                rest = &after[end + marker.len()..];
            }
            _ => {
                text.push_str(marker);
                rest = after;
            }
        }
    }
    if !text.is_empty() {
        out.push(Span::Text(text));
    }
    out
}

fn spans_view(spans: Vec<Span>) -> impl IntoView {
    spans
        .into_iter()
        .map(|s| match s {
            Span::Text(t) => t.into_any(),
            Span::Bold(t) => view! { <strong>{t}</strong> }.into_any(),
            Span::Em(t) => view! { <em>{t}</em> }.into_any(),
            Span::Code(t) => view! { <code>{t}</code> }.into_any(),
        })
        .collect_view()
}

/// Renders agent text; every string lands in a text node.
#[component]
pub fn Markdown(#[prop(into)] text: String) -> impl IntoView {
    parse(&text)
        .into_iter()
        .map(|b| match b {
            Block::Para(s) => view! { <p>{spans_view(s)}</p> }.into_any(),
            Block::List(items) => {
                view! { <ul>{items.into_iter().map(|s| view! { <li>{spans_view(s)}</li> }).collect_view()}</ul> }
                    .into_any()
            }
            Block::Code(c) => view! { <pre><code>{c}</code></pre> }.into_any(),
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_markers_and_unclosed_ones() {
        assert_eq!(
            inline("I pick **B** (`0.8`) *now*"),
            vec![
                Span::Text("I pick ".into()),
                Span::Bold("B".into()),
                Span::Text(" (".into()),
                Span::Code("0.8".into()),
                Span::Text(") ".into()),
                Span::Em("now".into())
            ]
        );
        assert_eq!(inline("2 * 3 = 6"), vec![Span::Text("2 * 3 = 6".into())]);
        assert_eq!(inline("**"), vec![Span::Text("**".into())]);
    }

    #[test]
    fn html_stays_text() {
        let b = parse("<script>alert(1)</script> <img src=x onerror=alert(1)>");
        assert_eq!(b, vec![Block::Para(vec![Span::Text("<script>alert(1)</script> <img src=x onerror=alert(1)>".into())])]);
    }

    #[test]
    fn blocks() {
        let b = parse("Plan:\n- one\n- **two**\n\n```\nx = 1\n```\nend");
        assert_eq!(b.len(), 4, "{b:?}");
        assert!(matches!(&b[1], Block::List(items) if items.len() == 2));
        assert_eq!(b[2], Block::Code("x = 1".into()));
    }
}
