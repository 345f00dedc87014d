//! Council's browser entry point: mounts the Leptos app.

fn main() {
    console_error_panic_hook::set_once();
    // Before anything is rendered (a shared link's content included): narrow the page's
    // connect-src to the hosts the user configured.
    council_app::csp::install();
    // Keys saved in plain text by an older version are sealed before the app shows
    // anything, so no view ever sees them in the old place.
    if council_app::backends::keys::has_plain_keys() {
        wasm_bindgen_futures::spawn_local(async {
            // On failure (no WebCrypto) the key stays where it was and still works.
            let _ = council_app::backends::keys::migrate_plain_keys().await;
            mount();
        });
    } else {
        mount();
    }
}

fn mount() {
    // The static shell index.html paints while the wasm loads.
    if let Some(boot) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("boot")) {
        boot.remove();
    }
    leptos::mount::mount_to_body(council_app::App);
}
