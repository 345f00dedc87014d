//! The run views: graph (with the structure overlays), timeline, transcript, metrics, the
//! structure panel and the plots they draw; the editor's editable graph; button icons.

pub mod graph;
pub mod graph_edit;
pub mod icons;
pub mod metrics;
pub mod overlays;
pub mod plot;
pub mod run_view;
pub mod structure;
pub mod timeline;
pub mod transcript;
