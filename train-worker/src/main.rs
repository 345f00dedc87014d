//! The training worker: trains the conductor's policy with burn off the page's thread
//! (protocol in `council_policy::protocol`). Trunk builds it as a worker bundle of its
//! own, which the page fetches only when the training view first starts something, so
//! burn (about a megabyte compressed) never weighs on a first visit.
//!
//! Device: `auto` asks burn for a WebGPU device and falls back to burn's Flex CPU backend
//! when the browser has no adapter.

#[cfg(target_arch = "wasm32")]
mod worker;

fn main() {
    #[cfg(target_arch = "wasm32")]
    {
        console_error_panic_hook::set_once();
        worker::start();
    }
}
