//! The page's side of the sweep worker (`sweep_worker`): one long-lived worker started from
//! the `council-worker` bundle under the sweep name, an outbox for requests sent before it
//! says ready (a worker drops messages that arrive before its wasm installed a handler), and
//! one listener: the sweep the page is showing. Events of other sweep ids are dropped.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::sweep_worker::{Event, Request, NAME};

type Listener = Rc<RefCell<Box<dyn FnMut(Event)>>>;

thread_local! {
    static WORKER: RefCell<Option<web_sys::Worker>> = const { RefCell::new(None) };
    /// Requests waiting for `ready`; `None` once the worker is ready.
    static OUTBOX: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
    static LISTENER: RefCell<Option<(u32, Listener)>> = const { RefCell::new(None) };
    static NEXT_ID: Cell<u32> = const { Cell::new(0) };
}

fn deliver(ev: Event) {
    let id = match &ev {
        Event::Ready => return,
        Event::Rows { id, .. } | Event::Done { id, .. } | Event::Error { id, .. } => *id,
    };
    // Cloned out so the listener may start, cancel or detach sweeps while it runs.
    let listener = LISTENER.with(|l| l.borrow().as_ref().filter(|(lid, _)| *lid == id || id == 0).map(|(_, f)| f.clone()));
    if let Some(f) = listener {
        (f.borrow_mut())(ev);
    }
}

fn send(text: String) -> Result<(), String> {
    let w = worker()?;
    let queued = OUTBOX.with(|o| o.borrow_mut().as_mut().map(|q| q.push(text.clone())).is_some());
    if !queued {
        w.post_message(&JsValue::from_str(&text)).map_err(|_| "cannot reach the sweep worker".to_string())?;
    }
    Ok(())
}

fn worker() -> Result<web_sys::Worker, String> {
    if let Some(w) = WORKER.with(|w| w.borrow().clone()) {
        return Ok(w);
    }
    let opts = web_sys::WorkerOptions::new();
    opts.set_name(NAME);
    // Trunk builds `council-worker` next to the app, with this loader shim.
    let w = web_sys::Worker::new_with_options("./council-worker_loader.js", &opts).map_err(|_| "cannot start the sweep worker".to_string())?;
    OUTBOX.with(|o| *o.borrow_mut() = Some(Vec::new()));
    let on_msg = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(|e: web_sys::MessageEvent| {
        let Some(ev) = e.data().as_string().and_then(|t| serde_json::from_str::<Event>(&t).ok()) else { return };
        if ev == Event::Ready {
            let queued = OUTBOX.with(|o| o.borrow_mut().take()).unwrap_or_default();
            if let Some(w) = WORKER.with(|w| w.borrow().clone()) {
                for t in queued {
                    let _ = w.post_message(&JsValue::from_str(&t));
                }
            }
        }
        deliver(ev);
    });
    w.set_onmessage(Some(on_msg.as_ref().unchecked_ref()));
    on_msg.forget();
    let on_err = Closure::<dyn FnMut(web_sys::Event)>::new(|_e: web_sys::Event| {
        // A crashed worker is dropped; the next sweep starts a fresh one.
        if let Some(w) = WORKER.with(|w| w.borrow_mut().take()) {
            w.terminate();
        }
        deliver(Event::Error { id: 0, message: "the sweep worker crashed".into() });
    });
    w.set_onerror(Some(on_err.as_ref().unchecked_ref()));
    on_err.forget();
    WORKER.with(|x| *x.borrow_mut() = Some(w.clone()));
    Ok(w)
}

/// Starts a sweep of `seeds` seeds per config in the worker; `on_event` gets its rows and
/// its end (it replaces the listener of any earlier sweep). Returns the sweep id.
pub fn start(configs: Vec<Value>, seeds: u32, base_seed: u64, on_event: impl FnMut(Event) + 'static) -> Result<u32, String> {
    let id = NEXT_ID.with(|n| {
        n.set(n.get().wrapping_add(1).max(1));
        n.get()
    });
    LISTENER.with(|l| *l.borrow_mut() = Some((id, Rc::new(RefCell::new(Box::new(on_event))))));
    let text = serde_json::to_string(&Request::Run { id, configs, seeds, base_seed }).map_err(|e| e.to_string())?;
    send(text)?;
    Ok(id)
}

/// Asks the worker to stop sweep `id` after its current batch (it then sends `done`).
pub fn cancel(id: u32) {
    if let Ok(text) = serde_json::to_string(&Request::Cancel { id }) {
        let _ = send(text);
    }
}

/// Stops delivering events of sweep `id` (the view showing it is gone) and cancels it.
pub fn detach(id: u32) {
    LISTENER.with(|l| {
        let mut l = l.borrow_mut();
        if l.as_ref().is_some_and(|(lid, _)| *lid == id) {
            *l = None;
        }
    });
    cancel(id);
}
