//! Streaming HTTP in the page: `fetch` with a body read through a `ReadableStream`
//! reader, cancellable with an `AbortController`, with a time limit on the response
//! headers and on every pause between chunks. Nothing here logs a request or its headers
//! (they hold the API key).

use futures::FutureExt;
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Request, RequestInit, Response};

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
    Reflect::get(e, &"name".into()).ok().and_then(|n| n.as_string()).is_some_and(|n| n == "AbortError")
}

/// POSTs `req` and hands each body chunk to `on_bytes` as it arrives. `controller`
/// cancels it (the run's Stop button); `timeout_ms` bounds the wait for headers and for
/// each chunk.
pub async fn post_stream(req: &HttpRequest, controller: &AbortController, timeout_ms: u32, on_bytes: &mut dyn FnMut(&[u8])) -> Result<(), FetchError> {
    let headers = Headers::new().map_err(|e| FetchError::Network(js_msg(&e)))?;
    for (k, v) in &req.headers {
        headers.set(k, v).map_err(|_| FetchError::Network(format!("header {k} has characters a browser cannot send")))?;
    }
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&req.body));
    init.set_signal(Some(&controller.signal()));
    // Never send cookies to an API; the key is in the headers.
    init.set_credentials(web_sys::RequestCredentials::Omit);
    let request = Request::new_with_str_and_init(&req.url, &init).map_err(|e| FetchError::Network(js_msg(&e)))?;
    let promise = fetch(&request)?;
    let resp = within(timeout_ms, async {
        JsFuture::from(promise).await.map_err(|e| if is_abort(&e) { FetchError::Aborted } else { FetchError::Network(js_msg(&e)) })
    })
    .await;
    let resp: Response = match resp {
        Ok(r) => r.unchecked_into(),
        Err(e) => {
            controller.abort();
            return Err(e);
        }
    };
    let status = resp.status();
    if !(200..300).contains(&status) {
        let retry_after = resp.headers().get("retry-after").ok().flatten();
        let body = match resp.text() {
            Ok(p) => within(timeout_ms, async { Ok(JsFuture::from(p).await.ok().and_then(|t| t.as_string()).unwrap_or_default()) }).await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        return Err(FetchError::Status { status, body: body.chars().take(2000).collect(), retry_after });
    }
    let Some(stream) = resp.body() else { return Ok(()) };
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    loop {
        let next = within(timeout_ms, async {
            JsFuture::from(reader.read()).await.map_err(|e| if is_abort(&e) { FetchError::Aborted } else { FetchError::Network(js_msg(&e)) })
        })
        .await;
        let chunk = match next {
            Ok(c) => c,
            Err(e) => {
                controller.abort();
                return Err(e);
            }
        };
        let done = Reflect::get(&chunk, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true);
        if done {
            return Ok(());
        }
        if let Ok(v) = Reflect::get(&chunk, &"value".into())
            && let Ok(arr) = v.dyn_into::<Uint8Array>()
        {
            on_bytes(&arr.to_vec());
        }
    }
}

fn fetch(request: &Request) -> Result<js_sys::Promise, FetchError> {
    if let Some(w) = web_sys::window() {
        return Ok(w.fetch_with_request(request));
    }
    match js_sys::global().dyn_into::<web_sys::WorkerGlobalScope>() {
        Ok(g) => Ok(g.fetch_with_request(request)),
        Err(_) => Err(FetchError::Network("no fetch in this context".into())),
    }
}
