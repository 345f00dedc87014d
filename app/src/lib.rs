//! Council's playground UI (Leptos CSR). The UI reads state and drives `council-core`;
//! it never owns the shareable scenario state itself.

pub mod test_hooks;

use leptos::prelude::*;

/// The root component.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <header class="top">
            <h1>"Council"</h1>
            <p>"Watch, tweak and compare how AI agents collaborate."</p>
        </header>
        <main id="home">
            <p>"Simulated agents run instantly in your browser; no key, no download."</p>
        </main>
    }
}
