//! Small inline SVG icons for buttons. Media-control glyphs (◀ ‖ ⏮) are missing from many
//! system fonts and render as empty boxes there; a path draws the same everywhere and
//! takes the button's text colour. Icons are decorative: the button's `aria-label` names it.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icon {
    Play,
    Pause,
    StepBack,
    StepForward,
    Stop,
    Plus,
}

impl Icon {
    /// The icon's path in a 16 × 16 box.
    pub fn path(self) -> &'static str {
        match self {
            Icon::Play => "M4 2.5v11l9.5-5.5z",
            Icon::Pause => "M3.5 2.5h3v11h-3zM9.5 2.5h3v11h-3z",
            Icon::StepBack => "M2.5 2.5h2v11h-2zM13.5 2.5v11L5.5 8z",
            Icon::StepForward => "M11.5 2.5h2v11h-2zM2.5 2.5v11L10.5 8z",
            Icon::Stop => "M3.5 3.5h9v9h-9z",
            Icon::Plus => "M7 2.5h2v4.5h4.5v2H9v4.5H7V9H2.5V7H7z",
        }
    }
}

/// `icon` as an inline SVG sized to the text around it.
#[component]
pub fn IconSvg(icon: Icon) -> impl IntoView {
    view! {
        <svg class="icon" data-icon=format!("{icon:?}").to_lowercase() viewBox="0 0 16 16" aria-hidden="true" focusable="false">
            <path d=icon.path() />
        </svg>
    }
}
