//! Pages behind the hash routes.

pub mod about;
pub mod editor;
pub mod gallery;
pub mod runs;
pub mod scenario;
pub mod sweep_view;
pub mod train;
