//! The model worker: runs local GGUF inference off the page's thread (see
//! `council_app::models::worker`). Trunk builds it from `app/index.html`.

fn main() {
    console_error_panic_hook::set_once();
    council_app::models::worker::start();
}
