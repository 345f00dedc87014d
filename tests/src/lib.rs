//! Cross-crate tests for Council. The Rust ones are under `tests/tests/`; the browser
//! end-to-end suite is under `tests/browser/` (Node's test runner + playwright-core).
