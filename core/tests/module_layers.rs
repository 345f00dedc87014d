//! Core's modules form layers, not circles: `lib.rs` declares them from the ground floor
//! up, and each module (its file or folder, test code aside) may only name modules
//! declared before it. A new upward import fails here with the offending line, so the
//! import circles that made core hard to change cannot come back unnoticed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Top-level modules in declaration order (`pub mod x;` lines of lib.rs).
fn declared_order() -> Vec<String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ").or_else(|| l.trim().strip_prefix("mod ")))
        .filter_map(|rest| rest.strip_suffix(';'))
        .map(str::to_string)
        .collect()
}

/// The Rust files of module `name` (its file, or every file under its folder), without
/// the `tests.rs` files that only test code includes.
fn files_of(name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let file = src().join(format!("{name}.rs"));
    if file.exists() {
        out.push(file);
    }
    let dir = src().join(name);
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") && p.file_name().is_some_and(|f| f != "tests.rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The code of a file without its `#[cfg(test)]` section (by convention the test module
/// closes each file).
fn non_test_code(text: &str) -> &str {
    match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    }
}

/// Every top-level module named by `crate::` paths in `code`, with the line it is on.
fn crate_refs(code: &str) -> Vec<(String, String)> {
    let mut refs = Vec::new();
    for line in code.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // `crate::{a, b::c}`: the first segment of each item.
                let inner = group.split('}').next().unwrap_or("");
                for item in inner.split(',') {
                    let head: String = item.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    if !head.is_empty() {
                        refs.push((head, line.trim().to_string()));
                    }
                }
            } else {
                let head: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !head.is_empty() {
                    refs.push((head, line.trim().to_string()));
                }
            }
        }
    }
    refs
}

#[test]
fn core_modules_import_only_downwards() {
    let order = declared_order();
    assert!(order.len() > 10, "lib.rs should declare core's modules: {order:?}");
    let rank: BTreeMap<&str, usize> = order.iter().enumerate().map(|(i, m)| (m.as_str(), i)).collect();
    let mut upward = Vec::new();
    for (i, module) in order.iter().enumerate() {
        let files = files_of(module);
        assert!(!files.is_empty(), "no source for module {module}");
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for (target, line) in crate_refs(non_test_code(&text)) {
                let Some(&j) = rank.get(target.as_str()) else { continue }; // a crate-root re-export or item
                if j > i {
                    upward.push(format!("{} names {target} (declared later): {line}", f.strip_prefix(src()).unwrap().display()));
                }
            }
        }
    }
    assert!(upward.is_empty(), "upward imports in core (reorder lib.rs or move the code down):\n{}", upward.join("\n"));
}

#[test]
fn the_checker_sees_grouped_and_plain_paths() {
    let refs = crate_refs("use crate::{spec::Spec, rng};\nlet x = crate::engine::Run::new(s);\n// crate::ignored\n");
    let names: Vec<&str> = refs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["spec", "rng", "engine"]);
    assert_eq!(non_test_code("a\n#[cfg(test)]\nmod tests { crate::x }"), "a\n");
}
