//! Paper findings reproduced by the simulated agents, as sweeps over the knob that
//! matters, each with the null case that shows why the effect appears. Every figure is
//! printed beside the paper's and must match docs/findings.md (see `common::report`).
//!
//! Run with `--nocapture` to see the rows; with COUNCIL_FINDINGS_PRINT=1 the rows are
//! printed without checking the document (for updating it after a model change).

mod common;
mod deliberation;
mod organisation;
mod orchestration;
mod swarms;
mod routing;
mod tokens;
