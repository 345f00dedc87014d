//! `council`: the native driver. Its command contract is in shared/design/architecture.md §6.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        // Hidden: the cross-target determinism probe (tests/browser/determinism.test.mjs).
        Some("probe-digest") => {
            let num = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
            println!("{}", council_core::determinism::probe_digest(num(1, 42), num(2, 1000) as u32));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("council: unknown command (try `council probe-digest SEED STEPS`)");
            ExitCode::from(2)
        }
    }
}
