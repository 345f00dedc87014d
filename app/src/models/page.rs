//! The "Models & keys" page (`#/models`): local models (bundled list, stored files with
//! size and delete, add by URL or file) and remote profiles.

use leptos::prelude::*;

use super::catalog::{self, CATALOG};

#[component]
pub fn ModelsPage() -> impl IntoView {
    view! {
        <section class="models-page" data-testid="models-page">
            <h2>"Local models"</h2>
            <p class="muted">"Small GGUF chat models run inside this page. Scenarios use one as backend local:<id>."</p>
            <table>
                <thead><tr><th>"id"</th><th>"model"</th><th>"from"</th><th>"size"</th></tr></thead>
                <tbody>
                    {CATALOG.iter().map(|m| view! {
                        <tr data-testid="catalog-row" data-model=m.id>
                            <td><code>{m.id}</code></td>
                            <td>{m.label}</td>
                            <td>{m.host().to_string()}</td>
                            <td>{catalog::human_bytes(m.size)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <crate::backends::settings_view::BackendSettings />
        </section>
    }
}
