//! Streaming HTTP in the page: a gloo-net request whose body is read chunk by chunk as
//! a stream (wasm-streams over the response's `ReadableStream`), cancellable with an
//! `AbortController`, with a time limit on the response headers and on every pause
//! between chunks. Nothing here logs a request or its headers (they hold the API key).

use futures::{FutureExt, StreamExt};
use gloo_net::http::{Headers, Request};
use js_sys::Uint8Array;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortController;

use super::protocol::HttpRequest;

/// Why a request produced no (more) data.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchError {
    /// The server answered with a non-2xx status; `body` is its (short) error text.
    Status { status: u16, body: String, retry_after: Option<String> },
    /// No connection, CORS refusal, or the connection dropped mid-stream.
    Network(String),
    /// The user stopped the run.
    Aborted,
    /// No response, or no data for `ms` milliseconds.
    Timeout(u32),
}

impl FetchError {
    pub fn sentence(&self) -> String {
        match self {
            FetchError::Status { status, body, .. } => format!("HTTP {status}: {}", body.chars().take(200).collect::<String>()),
            FetchError::Network(m) => format!("network error: {m} (is the server running, and does it allow this page's origin (CORS)?)"),
            FetchError::Aborted => "stopped".into(),
            FetchError::Timeout(ms) => format!("no data from the server for {} s", ms / 1000),
        }
    }
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: u32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        } else if let Ok(g) = js_sys::global().dyn_into::<web_sys::WorkerGlobalScope>() {
            let _ = g.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = JsFuture::from(p).await;
}

/// `fut`, or `Err(Timeout)` after `ms`.
async fn within<T>(ms: u32, fut: impl std::future::Future<Output = Result<T, FetchError>>) -> Result<T, FetchError> {
    futures::select! {
        r = fut.fuse() => r,
        _ = sleep(ms).fuse() => Err(FetchError::Timeout(ms)),
    }
}

fn js_msg(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| "request failed".into())
}

fn is_abort(e: &JsValue) -> bool {
    js_sys::Reflect::get(e, &"name".into()).ok().and_then(|n| n.as_string()).is_some_and(|n| n == "AbortError")
}

/// A gloo-net error as a `FetchError`: an abort is the user's Stop, anything else the network.
fn from_gloo(e: gloo_net::Error) -> FetchError {
    match e {
        gloo_net::Error::JsError(j) if j.name == "AbortError" => FetchError::Aborted,
        gloo_net::Error::JsError(j) => FetchError::Network(j.message),
        other => FetchError::Network(other.to_string()),
    }
}

/// The request's headers. Built on `web_sys::Headers` directly because gloo-net's
/// `header()` throws on a value the browser refuses (a key pasted with odd characters),
/// where this answers with a sentence.
fn headers_of(req: &HttpRequest) -> Result<Headers, FetchError> {
    let h = web_sys::Headers::new().map_err(|e| FetchError::Network(js_msg(&e)))?;
    for (k, v) in &req.headers {
        h.set(k, v).map_err(|_| FetchError::Network(format!("header {k} has characters a browser cannot send")))?;
    }
    Ok(Headers::from_raw(h))
}

/// POSTs `req` and hands each body chunk to `on_bytes` as it arrives. `controller`
/// cancels it (the run's Stop button); `timeout_ms` bounds the wait for headers and for
/// each chunk.
pub async fn post_stream(req: &HttpRequest, controller: &AbortController, timeout_ms: u32, on_bytes: &mut dyn FnMut(&[u8])) -> Result<(), FetchError> {
    let request = Request::post(&req.url)
        .headers(headers_of(req)?)
        .abort_signal(Some(&controller.signal()))
        // Never send cookies to an API; the key is in the headers.
        .credentials(web_sys::RequestCredentials::Omit)
        .body(req.body.as_str())
        .map_err(from_gloo)?;
    let resp = match within(timeout_ms, async { request.send().await.map_err(from_gloo) }).await {
        Ok(r) => r,
        Err(e) => {
            controller.abort();
            return Err(e);
        }
    };
    let status = resp.status();
    if !(200..300).contains(&status) {
        let retry_after = resp.headers().get("retry-after");
        let body = within(timeout_ms, async { Ok(resp.text().await.unwrap_or_default()) }).await.unwrap_or_default();
        return Err(FetchError::Status { status, body: body.chars().take(2000).collect(), retry_after });
    }
    let Some(body) = resp.body() else { return Ok(()) };
    let mut chunks = wasm_streams::ReadableStream::from_raw(body).into_stream();
    loop {
        let next = within(timeout_ms, async {
            match chunks.next().await {
                None => Ok(None),
                Some(Ok(v)) => Ok(Some(v)),
                Some(Err(e)) if is_abort(&e) => Err(FetchError::Aborted),
                Some(Err(e)) => Err(FetchError::Network(js_msg(&e))),
            }
        })
        .await;
        match next {
            Ok(None) => return Ok(()),
            Ok(Some(v)) => {
                if let Ok(arr) = v.dyn_into::<Uint8Array>() {
                    on_bytes(&arr.to_vec());
                }
            }
            Err(e) => {
                controller.abort();
                return Err(e);
            }
        }
    }
}
