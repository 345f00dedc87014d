//! What minijinja's fuel cannot see, refused before a chat template is compiled.
//!
//! Fuel (see `chat`) charges instructions and the bytes strings and lists are built from,
//! but not sequence concatenation: `list + list` is lazy and free, so a few dozen
//! doublings (`{% set ns.l = ns.l + ns.l %}`) describe a list of 2^40 items, which
//! minijinja then materializes in one go once the chain is 33 levels deep — an
//! allocation of gigabytes no budget stops. The `chain` filter and `sum` over lists build
//! the same chains. Chat templates use `+` to join text and count, never to grow lists,
//! so the rule here keeps every real template working while closing that door:
//!
//! - `a + b` needs one side that is certainly text or a number: a string or number
//!   literal, a `~` concatenation, a `+` chain that is itself text, or a filter or string
//!   method that returns text (`trim`, `tojson`, `.strip()`, ...);
//! - `a * b` repeats text only (`'-' * 20`) or multiplies numbers (`loop.index * 2`):
//!   a repeated list is lazy too;
//! - the `chain` filter is not available, and `sum` adds numbers only (`chat::ChatTemplate`
//!   registers that version).
//!
//! The other way to a huge value is sharing: `{% set ns.x = [ns.x, ns.x] %}` in a loop
//! builds a value of 2^n items from n small steps, and turning it into text (`~`,
//! `|string`, `|tojson`, a `{% set %}` block) writes all of them before fuel is charged.
//! So a list, tuple or map literal, and a `dict(...)` or `namespace(...)` call, may hold
//! at most one value that is not a literal, and filters that repeat an argument into
//! every item (`batch(n, fill_with)`, `map('default', x)`) take literals only. Chat
//! templates build their lists from literals (`['user', 'assistant']`).
//!
//! The check walks minijinja's syntax tree (its `unstable_machinery` API; the crate is
//! pinned to the version this was written against).

use minijinja::machinery::ast::{self, CallArg, Expr, Stmt};
use minijinja::machinery::parse;
use minijinja::syntax::SyntaxConfig;
use minijinja::value::ValueKind;

/// Filters that always return a string.
const TEXT_FILTERS: &[&str] = &[
    "string", "trim", "upper", "lower", "title", "capitalize", "replace", "tojson", "join", "escape", "e", "safe",
    "indent", "center", "format", "striptags", "urlencode", "pprint", "wordwrap", "truncate",
];
/// String methods (minijinja-contrib's Python compatibility) that return a string.
const TEXT_METHODS: &[&str] =
    &["strip", "lstrip", "rstrip", "upper", "lower", "title", "capitalize", "replace", "format", "join"];

/// Why `source` is refused, as one line naming the template line, or `None` if it passes.
/// Syntax errors are left for the compiler to report.
pub(crate) fn check(source: &str, syntax: SyntaxConfig) -> Option<String> {
    let tree = parse(source, "chat", syntax).ok()?;
    let mut v = Guard { problem: None };
    v.stmt(&tree);
    v.problem
}

struct Guard {
    problem: Option<String>,
}

impl Guard {
    fn refuse(&mut self, line: u16, what: &str) {
        if self.problem.is_none() {
            self.problem = Some(format!("line {line}: {what}"));
        }
    }

    fn stmts(&mut self, list: &[Stmt<'_>]) {
        for s in list {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &Stmt<'_>) {
        match s {
            Stmt::Template(t) => self.stmts(&t.children),
            Stmt::EmitExpr(e) => self.expr(&e.expr),
            Stmt::EmitRaw(_) | Stmt::Continue(_) | Stmt::Break(_) => {}
            Stmt::ForLoop(f) => {
                self.expr(&f.target);
                self.expr(&f.iter);
                if let Some(e) = &f.filter_expr {
                    self.expr(e);
                }
                self.stmts(&f.body);
                self.stmts(&f.else_body);
            }
            Stmt::IfCond(c) => {
                self.expr(&c.expr);
                self.stmts(&c.true_body);
                self.stmts(&c.false_body);
            }
            Stmt::WithBlock(w) => {
                for (a, b) in &w.assignments {
                    self.expr(a);
                    self.expr(b);
                }
                self.stmts(&w.body);
            }
            Stmt::Set(x) => {
                self.expr(&x.target);
                self.expr(&x.expr);
            }
            Stmt::SetBlock(x) => {
                self.expr(&x.target);
                if let Some(f) = &x.filter {
                    self.expr(f);
                }
                self.stmts(&x.body);
            }
            Stmt::AutoEscape(a) => {
                self.expr(&a.enabled);
                self.stmts(&a.body);
            }
            Stmt::FilterBlock(f) => {
                self.expr(&f.filter);
                self.stmts(&f.body);
            }
            Stmt::Macro(m) => self.macro_decl(m),
            Stmt::CallBlock(c) => {
                self.call(&c.call);
                self.macro_decl(&c.macro_decl);
            }
            Stmt::Do(d) => self.call(&d.call),
        }
    }

    fn macro_decl(&mut self, m: &ast::Macro<'_>) {
        for e in m.args.iter().chain(&m.defaults) {
            self.expr(e);
        }
        self.stmts(&m.body);
    }

    fn call(&mut self, c: &ast::Call<'_>) {
        self.expr(&c.expr);
        self.args(&c.args);
    }

    fn args(&mut self, args: &[CallArg<'_>]) {
        for a in args {
            match a {
                CallArg::Pos(e) | CallArg::Kwarg(_, e) | CallArg::PosSplat(e) | CallArg::KwargSplat(e) => self.expr(e),
            }
        }
    }

    fn expr(&mut self, e: &Expr<'_>) {
        match e {
            Expr::Var(_) | Expr::Const(_) => {}
            Expr::Slice(s) => {
                self.expr(&s.expr);
                for x in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                    self.expr(x);
                }
            }
            Expr::UnaryOp(u) => self.expr(&u.expr),
            Expr::BinOp(b) => {
                if matches!(b.op, ast::BinOpKind::Add) && !(scalar(&b.left) || scalar(&b.right)) {
                    self.refuse(
                        b.span().start_line,
                        "`+` between two values that may be lists (chat templates may use `+` on text and numbers only; use `~` to join text)",
                    );
                }
                if matches!(b.op, ast::BinOpKind::Mul)
                    && !(is_str_const(&b.left) || is_str_const(&b.right) || (numeric(&b.left) && numeric(&b.right)))
                {
                    self.refuse(b.span().start_line, "`*` on a value that may be a list (chat templates may repeat text or multiply numbers only)");
                }
                self.expr(&b.left);
                self.expr(&b.right);
            }
            Expr::Compare(c) => {
                self.expr(&c.expr);
                for op in &c.ops {
                    self.expr(&op.expr);
                }
            }
            Expr::IfExpr(i) => {
                self.expr(&i.test_expr);
                self.expr(&i.true_expr);
                if let Some(f) = &i.false_expr {
                    self.expr(f);
                }
            }
            Expr::Filter(f) => {
                if f.name == "chain" {
                    self.refuse(f.span().start_line, "the `chain` filter is not available in chat templates");
                }
                if matches!(f.name, "batch" | "map" | "slice") && f.args.iter().skip(1).any(|a| !arg_is_const(a)) {
                    self.refuse(f.span().start_line, &format!("`{}` may only take literal arguments in chat templates", f.name));
                }
                if let Some(x) = &f.expr {
                    self.expr(x);
                }
                self.args(&f.args);
            }
            Expr::Test(t) => {
                self.expr(&t.expr);
                self.args(&t.args);
            }
            Expr::GetAttr(g) => self.expr(&g.expr),
            Expr::GetItem(g) => {
                self.expr(&g.expr);
                self.expr(&g.subscript_expr);
            }
            Expr::Call(c) => {
                if let Expr::Var(v) = &c.expr
                    && matches!(v.id, "dict" | "namespace")
                    && c.args.iter().filter(|a| !arg_is_const(a)).count() > 1
                {
                    self.refuse(c.span().start_line, &format!("`{}(...)` may hold at most one value that is not a literal", v.id));
                }
                self.call(c)
            }
            Expr::List(l) => {
                self.shared(l.span().start_line, &l.items);
                l.items.iter().for_each(|x| self.expr(x));
            }
            Expr::Tuple(t) => {
                self.shared(t.span().start_line, &t.items);
                t.items.iter().for_each(|x| self.expr(x));
            }
            Expr::Map(m) => {
                self.shared(m.span().start_line, &m.values);
                for x in m.keys.iter().chain(&m.values) {
                    self.expr(x);
                }
            }
        }
    }
}

impl Guard {
    /// A container literal holding more than one non-literal value could share one value
    /// many times over.
    fn shared(&mut self, line: u16, items: &[Expr<'_>]) {
        if items.iter().filter(|e| !is_const(e)).count() > 1 {
            self.refuse(line, "a list or map literal may hold at most one value that is not a literal in chat templates");
        }
    }
}

/// A literal, or a list, tuple or map of literals.
fn is_const(e: &Expr<'_>) -> bool {
    match e {
        Expr::Const(_) => true,
        Expr::List(l) => l.items.iter().all(is_const),
        Expr::Tuple(t) => t.items.iter().all(is_const),
        Expr::Map(m) => m.keys.iter().chain(&m.values).all(is_const),
        Expr::UnaryOp(u) => is_const(&u.expr),
        _ => false,
    }
}

fn arg_is_const(a: &CallArg<'_>) -> bool {
    match a {
        CallArg::Pos(e) | CallArg::Kwarg(_, e) => is_const(e),
        CallArg::PosSplat(_) | CallArg::KwargSplat(_) => false,
    }
}

fn is_str_const(e: &Expr<'_>) -> bool {
    matches!(e, Expr::Const(c) if c.value.kind() == ValueKind::String)
}

/// Certainly a number: a number literal, a loop counter, a counting filter, or arithmetic
/// on those.
fn numeric(e: &Expr<'_>) -> bool {
    match e {
        Expr::Const(c) => c.value.kind() == ValueKind::Number,
        Expr::UnaryOp(u) => numeric(&u.expr),
        Expr::BinOp(b) => {
            use ast::BinOpKind::*;
            matches!(b.op, Add | Sub | Mul | Div | FloorDiv | Rem | Pow) && numeric(&b.left) && numeric(&b.right)
        }
        Expr::Filter(f) => matches!(f.name, "length" | "count" | "int" | "float" | "abs" | "round"),
        Expr::GetAttr(g) => {
            matches!(&g.expr, Expr::Var(v) if v.id == "loop")
                && matches!(g.name, "index" | "index0" | "revindex" | "revindex0" | "length" | "depth" | "depth0")
        }
        _ => false,
    }
}

/// Certainly a string or a number, so `+` with it cannot concatenate two lists.
fn scalar(e: &Expr<'_>) -> bool {
    match e {
        Expr::Const(c) => matches!(c.value.kind(), ValueKind::String | ValueKind::Number | ValueKind::Bool),
        _ => text(e),
    }
}

/// Certainly a string (or an error at run time).
fn text(e: &Expr<'_>) -> bool {
    match e {
        Expr::Const(c) => c.value.kind() == ValueKind::String,
        Expr::BinOp(b) => match b.op {
            ast::BinOpKind::Concat => true,
            ast::BinOpKind::Add => text(&b.left) || text(&b.right),
            _ => false,
        },
        Expr::Filter(f) => TEXT_FILTERS.contains(&f.name),
        Expr::Call(c) => matches!(&c.expr, Expr::GetAttr(g) if TEXT_METHODS.contains(&g.name)),
        Expr::IfExpr(i) => text(&i.true_expr) && i.false_expr.as_ref().is_some_and(text),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(src: &str) -> Option<String> {
        check(src, SyntaxConfig::default())
    }

    #[test]
    fn text_and_number_joins_pass() {
        for ok in [
            "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}",
            "{% set ns.system_prompt = ns.system_prompt + '\\n\\n' + message['content'] %}",
            "{{ message['content'] | trim + '<|eot_id|>' }}",
            "{{ loop.index0 + 1 }}{{ 1 + ns.n }}",
            "{{ (a ~ b) + c }}{{ x.strip() + y }}{{ m.content|tojson + tail }}",
            "{{ ('a' if x else 'b') + y }}",
            "{% for m in messages %}{{ m.role ~ m.content }}{% endfor %}",
            "{{ [1, 2] | sum }}",
            "{{ '-' * 20 }}{{ ' ' * (loop.depth0 * 2) }}{{ messages|length * 2 }}",
            "{% if m.role in ['user', 'assistant'] %}{% endif %}{% set ns = namespace(found=false, last=messages|length - 1) %}",
            "{{ [m] }}{{ {'role': m.role, 'kind': 'x'} }}{{ x|batch(2) }}{{ x|map(attribute='content') }}",
        ] {
            assert_eq!(refused(ok), None, "{ok}");
        }
    }

    #[test]
    fn list_growth_is_refused_with_its_line() {
        for bad in [
            "{% set ns.l = ns.l + ns.l %}",
            "{{ a + b }}",
            "{{ (ns.l + []) + ns.l }}",
            "{{ ns.l + [1] }}",
            "{{ (x if c else y) + z }}",
            "{{ l|chain(l) }}",
            "{% macro f(x=a + b) %}{% endmacro %}",
            "{% for i in range(3) %}{% if i %}{% set ns.l = [ns.l] + ns.l %}{% endif %}{% endfor %}",
            "{{ ns.l * 3 }}",
            "{{ 3 * ns.l }}",
            "{{ ['x'] * 100 }}",
            "{% set ns.x = [ns.x, ns.x] %}",
            "{% set ns.x = {'a': ns.x, 'b': ns.x} %}",
            "{% set ns.x = (ns.x, ns.x) %}",
            "{% set ns = namespace(a=x, b=x) %}",
            "{{ dict(a=x, b=y) }}",
            "{{ [1]|batch(100000, ns.x) }}",
            "{{ range(100000)|map('default', ns.x) }}",
        ] {
            assert!(refused(bad).is_some(), "{bad} passed");
        }
        assert_eq!(refused("x\n\n{{ a + b }}").unwrap().split(':').next(), Some("line 3"));
    }
}
