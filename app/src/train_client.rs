//! The page's side of the training worker (`council-train`, a bundle of its own that
//! carries burn): started on the first request, so a visit that never trains never fetches
//! it. One listener (the training view's), an outbox for requests sent before the worker
//! says ready, events of other job ids dropped.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use council_policy::protocol::{Event, NAME, Request};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

type Listener = Rc<RefCell<Box<dyn FnMut(Event)>>>;

thread_local! {
    static WORKER: RefCell<Option<web_sys::Worker>> = const { RefCell::new(None) };
    static OUTBOX: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
    static LISTENER: RefCell<Option<(u32, Listener)>> = const { RefCell::new(None) };
    static NEXT_ID: Cell<u32> = const { Cell::new(0) };
}

fn event_id(ev: &Event) -> Option<u32> {
    match ev {
        Event::Ready => None,
        Event::Started { id, .. }
        | Event::Progress { id, .. }
        | Event::Probe { id, .. }
        | Event::Done { id, .. }
        | Event::Evaluating { id, .. }
        | Event::Compared { id, .. }
        | Event::Error { id, .. } => Some(*id),
    }
}

fn deliver(ev: Event) {
    let Some(id) = event_id(&ev) else { return };
    let listener = LISTENER.with(|l| l.borrow().as_ref().filter(|(lid, _)| *lid == id || id == 0).map(|(_, f)| f.clone()));
    if let Some(f) = listener {
        (f.borrow_mut())(ev);
    }
}

fn worker() -> Result<web_sys::Worker, String> {
    if let Some(w) = WORKER.with(|w| w.borrow().clone()) {
        return Ok(w);
    }
    let opts = web_sys::WorkerOptions::new();
    opts.set_name(NAME);
    // Trunk builds `council-train` next to the app, with this loader shim (a same-origin file).
    let w = web_sys::Worker::new_with_options("./council-train_loader.js", &opts).map_err(|_| "cannot start the training worker".to_string())?;
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
        // A crashed worker is dropped; the next request starts a fresh one.
        if let Some(w) = WORKER.with(|w| w.borrow_mut().take()) {
            w.terminate();
        }
        deliver(Event::Error { id: 0, message: "the training worker crashed".into() });
    });
    w.set_onerror(Some(on_err.as_ref().unchecked_ref()));
    on_err.forget();
    WORKER.with(|x| *x.borrow_mut() = Some(w.clone()));
    Ok(w)
}

fn send(req: &Request) -> Result<(), String> {
    let text = serde_json::to_string(req).map_err(|e| e.to_string())?;
    let w = worker()?;
    let queued = OUTBOX.with(|o| o.borrow_mut().as_mut().map(|q| q.push(text.clone())).is_some());
    if !queued {
        w.post_message(&JsValue::from_str(&text)).map_err(|_| "cannot reach the training worker".to_string())?;
    }
    Ok(())
}

/// Starts a job (`make` builds its request from the new id); `on_event` gets its events and
/// replaces the listener of any earlier job. Returns the job id.
pub fn start(make: impl FnOnce(u32) -> Request, on_event: impl FnMut(Event) + 'static) -> Result<u32, String> {
    let id = NEXT_ID.with(|n| {
        n.set(n.get().wrapping_add(1).max(1));
        n.get()
    });
    LISTENER.with(|l| *l.borrow_mut() = Some((id, Rc::new(RefCell::new(Box::new(on_event))))));
    send(&make(id))?;
    Ok(id)
}

/// Asks the worker to stop job `id` after the step in progress.
pub fn stop(id: u32) {
    let _ = send(&Request::Stop { id });
}

/// Stops delivering job `id`'s events (its view is gone) and stops it.
pub fn detach(id: u32) {
    LISTENER.with(|l| {
        let mut l = l.borrow_mut();
        if l.as_ref().is_some_and(|(lid, _)| *lid == id) {
            *l = None;
        }
    });
    stop(id);
}
