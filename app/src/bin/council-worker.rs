//! The model worker: runs local GGUF inference off the page's thread (see
//! `council_app::models::worker`). Trunk builds it from `app/index.html`. Started under the
//! sweep name, the same bundle runs sweeps instead (`council_app::sweep_worker`); under the
//! engine-hooks name it serves the browser tests' engine calls (`council_app::engine_hooks`).

fn main() {
    console_error_panic_hook::set_once();
    if council_app::sweep_worker::is_this_worker() {
        council_app::sweep_worker::start()
    } else if council_app::engine_hooks::is_this_worker() {
        council_app::engine_hooks::start()
    } else {
        council_app::models::worker::start()
    }
}
