//! A small element tree that pure code builds once and two places show: serialized to
//! escaped HTML in exports, and mounted as DOM nodes in the page (text as text nodes,
//! attributes with `setAttribute`, styles through the CSSOM, so nothing is parsed as HTML
//! and the page's CSP needs no inline styles).
//!
//! Why not `view!`: the structure panel's blocks are static snapshots redrawn as the cursor
//! moves, and in Leptos each distinct `view!` closure is compiled into its own render code.
//! Built as trees, they cost one renderer: on the release build (together with a hull
//! that needs no sort) the structure views' share of the first visit fell from +73 KB to
//! +56 KB gzip.

/// An element or a text.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    El(El),
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct El {
    pub tag: &'static str,
    pub attrs: Vec<(&'static str, String)>,
    /// CSS properties (custom properties too), set through the CSSOM in the page.
    pub styles: Vec<(&'static str, String)>,
    pub children: Vec<Node>,
}

/// An element named `tag`.
pub fn el(tag: &'static str) -> El {
    El { tag, attrs: Vec::new(), styles: Vec::new(), children: Vec::new() }
}

/// A text node.
pub fn text(t: impl Into<String>) -> Node {
    Node::Text(t.into())
}

impl El {
    pub fn attr(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.attrs.push((name, value.into()));
        self
    }

    /// Sets the class, unless `c` is empty.
    pub fn class(self, c: &'static str) -> Self {
        if c.is_empty() { self } else { self.attr("class", c) }
    }

    pub fn style(mut self, prop: &'static str, value: impl Into<String>) -> Self {
        self.styles.push((prop, value.into()));
        self
    }

    pub fn child(mut self, n: impl Into<Node>) -> Self {
        self.children.push(n.into());
        self
    }

    pub fn text(self, t: impl Into<String>) -> Self {
        self.child(Node::Text(t.into()))
    }

    pub fn children(mut self, ns: Vec<Node>) -> Self {
        self.children.extend(ns);
        self
    }

    /// The first attribute named `name` (tests read trees with it).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }
}

impl From<El> for Node {
    fn from(e: El) -> Self {
        Node::El(e)
    }
}

/// Escapes text for an HTML text node or a double-quoted attribute.
pub fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

impl Node {
    /// HTML for an export: every text and attribute value escaped, styles as a `style`
    /// attribute (exports allow inline styles; the page does not and never sees this).
    pub fn to_html(&self, out: &mut String) {
        match self {
            Node::Text(t) => escape(t, out),
            Node::El(e) => {
                out.push('<');
                out.push_str(e.tag);
                for (k, v) in &e.attrs {
                    out.push(' ');
                    out.push_str(k);
                    out.push_str("=\"");
                    escape(v, out);
                    out.push('"');
                }
                if !e.styles.is_empty() {
                    out.push_str(" style=\"");
                    for (k, v) in &e.styles {
                        escape(k, out);
                        out.push(':');
                        escape(v, out);
                        out.push(';');
                    }
                    out.push('"');
                }
                out.push('>');
                for c in &e.children {
                    c.to_html(out);
                }
                out.push_str("</");
                out.push_str(e.tag);
                out.push('>');
            }
        }
    }

    pub fn html(&self) -> String {
        let mut s = String::new();
        self.to_html(&mut s);
        s
    }

    /// Every element in the tree, depth first (for tests).
    pub fn elements(&self) -> Vec<&El> {
        let mut out = Vec::new();
        fn walk<'a>(n: &'a Node, out: &mut Vec<&'a El>) {
            if let Node::El(e) = n {
                out.push(e);
                for c in &e.children {
                    walk(c, out);
                }
            }
        }
        walk(self, &mut out);
        out
    }

    /// The concatenated text of the tree.
    pub fn text_content(&self) -> String {
        match self {
            Node::Text(t) => t.clone(),
            Node::El(e) => e.children.iter().map(Node::text_content).collect(),
        }
    }
}

const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// The tree as DOM nodes; elements inside an `svg` are made in the SVG namespace.
pub fn to_dom(n: &Node, doc: &web_sys::Document, in_svg: bool) -> Option<web_sys::Node> {
    use wasm_bindgen::JsCast;
    match n {
        Node::Text(t) => Some(doc.create_text_node(t).into()),
        Node::El(e) => {
            let svg = in_svg || e.tag == "svg";
            let el = if svg { doc.create_element_ns(Some(SVG_NS), e.tag).ok()? } else { doc.create_element(e.tag).ok()? };
            for (k, v) in &e.attrs {
                let _ = el.set_attribute(k, v);
            }
            if !e.styles.is_empty() {
                let style = if svg {
                    el.dyn_ref::<web_sys::SvgElement>().map(|s| s.style())
                } else {
                    el.dyn_ref::<web_sys::HtmlElement>().map(|h| h.style())
                };
                if let Some(style) = style {
                    for (k, v) in &e.styles {
                        let _ = style.set_property(k, v);
                    }
                }
            }
            for c in &e.children {
                if let Some(child) = to_dom(c, doc, svg) {
                    let _ = el.append_child(&child);
                }
            }
            Some(el.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_text_attributes_and_styles() {
        let t: Node = el("div")
            .attr("data-x", "\"><script>")
            .style("width", "1%\"><b>")
            .text("</div><img src=x onerror=alert(1)>&")
            .child(el("span").class("a"))
            .into();
        let h = t.html();
        assert_eq!(
            h,
            "<div data-x=\"&quot;&gt;&lt;script&gt;\" style=\"width:1%&quot;&gt;&lt;b&gt;;\">&lt;/div&gt;&lt;img src=x onerror=alert(1)&gt;&amp;<span class=\"a\"></span></div>"
        );
        assert_eq!(t.elements().len(), 2);
        assert_eq!(t.text_content(), "</div><img src=x onerror=alert(1)>&");
        assert_eq!(t.elements()[1].get("class"), Some("a"));
    }
}
