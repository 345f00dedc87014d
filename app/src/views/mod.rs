//! The run views: graph, timeline, transcript, metrics and the plots they draw.

pub mod graph;
pub mod metrics;
pub mod plot;
pub mod run_view;
pub mod timeline;
pub mod transcript;
