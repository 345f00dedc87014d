//! The run views: graph, timeline, transcript, metrics and the plots they draw; the
//! editor's editable graph; button icons.

pub mod graph;
pub mod graph_edit;
pub mod icons;
pub mod metrics;
pub mod plot;
pub mod run_view;
pub mod timeline;
pub mod transcript;
