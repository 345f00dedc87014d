//! Council's browser entry point: mounts the Leptos app.

fn main() {
    console_error_panic_hook::set_once();
    // The static shell index.html paints while the wasm loads.
    if let Some(boot) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("boot")) {
        boot.remove();
    }
    leptos::mount::mount_to_body(council_app::App);
}
