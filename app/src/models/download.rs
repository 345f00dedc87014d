//! Model downloads that survive a reload or a cut connection: the file grows in OPFS and
//! is committed every few MB, so a new attempt asks only for the rest (`Range:
//! bytes=N-`); a server that ignores Range (200) restarts it from zero. Before writing,
//! the storage quota is checked against what is left to fetch; at the end the size is
//! checked against the server's total (and the SHA-256 when the catalog knows it).
//! What is stored is listed in localStorage (`council.models.v1`): id, source URL, size,
//! whether complete. The request goes out through gloo-net; its body is read as a stream
//! (wasm-streams) and written to OPFS chunk by chunk, never held whole in memory.

use std::cell::OnceCell;
use std::collections::BTreeMap;

use futures::StreamExt;
use js_sys::Uint8Array;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::opfs;

pub const STORAGE_KEY: &str = "council.models.v1";
/// Bytes written between two commits (what a reload can lose at most).
const COMMIT_EVERY: f64 = 8.0 * 1024.0 * 1024.0;

/// A model this browser has (or is fetching).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredModel {
    pub id: String,
    pub label: String,
    pub url: String,
    /// Total bytes (0 until the server said).
    pub size: f64,
    #[serde(default)]
    pub sha256: Option<String>,
    pub complete: bool,
}

impl StoredModel {
    pub fn file(&self) -> String {
        file_name(&self.id)
    }
}

pub fn file_name(id: &str) -> String {
    format!("{id}.gguf")
}

/// Model ids are short slugs (they go into scenarios as `local:<id>`).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub fn list() -> Vec<StoredModel> {
    storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten()).and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

fn save_list(v: &[StoredModel]) {
    if let (Some(s), Ok(t)) = (storage(), serde_json::to_string(v)) {
        let _ = s.set_item(STORAGE_KEY, &t);
    }
}

pub fn get(id: &str) -> Option<StoredModel> {
    list().into_iter().find(|m| m.id == id)
}

fn upsert(m: StoredModel) {
    let mut v = list();
    match v.iter_mut().find(|x| x.id == m.id) {
        Some(x) => *x = m,
        None => v.push(m),
    }
    save_list(&v);
    version().update(|n| *n += 1);
}

/// Deletes a model's file and record.
pub async fn delete(id: &str) -> Result<(), String> {
    opfs::remove(&file_name(id)).await?;
    let v: Vec<StoredModel> = list().into_iter().filter(|m| m.id != id).collect();
    save_list(&v);
    progress().update(|p| {
        p.remove(id);
    });
    version().update(|n| *n += 1);
    Ok(())
}

/// Where a download stands.
#[derive(Debug, Clone, PartialEq)]
pub enum DlState {
    Downloading,
    Verifying,
    Done,
    /// Stopped part-way (connection lost, reload); resumable.
    Paused(String),
    Failed(String),
}

impl DlState {
    pub fn name(&self) -> &'static str {
        match self {
            DlState::Downloading => "downloading",
            DlState::Verifying => "verifying",
            DlState::Done => "done",
            DlState::Paused(_) => "paused",
            DlState::Failed(_) => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub bytes: f64,
    pub total: f64,
    /// Bytes per second over the last second or so.
    pub speed: f64,
    pub state: DlState,
    /// Bytes this attempt started from (a resume starts above 0).
    pub resumed_from: f64,
}

thread_local! {
    static PROGRESS: OnceCell<RwSignal<BTreeMap<String, Progress>>> = const { OnceCell::new() };
    static VERSION: OnceCell<RwSignal<u32>> = const { OnceCell::new() };
}

/// Live progress per model id (page-wide: a download goes on while you browse).
pub fn progress() -> RwSignal<BTreeMap<String, Progress>> {
    PROGRESS.with(|c| *c.get_or_init(|| super::page_wide(BTreeMap::new())))
}

/// Bumped when the stored list changes.
pub fn version() -> RwSignal<u32> {
    VERSION.with(|c| *c.get_or_init(|| super::page_wide(0)))
}

fn set_progress(id: &str, f: impl FnOnce(&mut Progress)) {
    progress().update(|m| {
        let p = m.entry(id.to_string()).or_insert(Progress { bytes: 0.0, total: 0.0, speed: 0.0, state: DlState::Downloading, resumed_from: 0.0 });
        f(p);
    });
}

fn now() -> f64 {
    js_sys::Date::now()
}

fn gloo_err(e: gloo_net::Error) -> String {
    match e {
        gloo_net::Error::JsError(j) => j.message,
        other => other.to_string(),
    }
}

fn js_err(e: JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| "network error".into())
}

/// "bytes 100-199/1000" → (100, Some(1000)).
pub fn parse_content_range(v: &str) -> Option<(f64, Option<f64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim();
    let (range, total) = rest.split_once('/')?;
    let start: f64 = range.split_once('-')?.0.trim().parse().ok()?;
    Some((start, total.trim().parse().ok()))
}

/// "1.2 GB needed, 0.8 GB free": whether `need` more bytes fit in the quota.
pub fn quota_message(need: f64, usage: f64, quota: f64) -> Option<String> {
    let free = (quota - usage).max(0.0);
    (quota > 0.0 && need > free).then(|| {
        format!(
            "Not enough browser storage: this download needs {} more and only {} is free. Delete other models on this page or free space in the browser's site settings.",
            super::catalog::human_bytes(need as u64),
            super::catalog::human_bytes(free as u64)
        )
    })
}

/// Checks a model id and source URL before anything is stored or fetched.
pub fn check_source(id: &str, url: &str) -> Result<(), String> {
    if !valid_id(id) {
        return Err("model id: use 1-64 letters, digits, - _ or .".into());
    }
    if !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/')) {
        return Err("the model URL must start with https:// or http://".into());
    }
    Ok(())
}

/// Lists model `id` from `url` as not yet downloaded (nothing is fetched), so the page's
/// connect-src lists its host after a reload.
pub fn remember(id: &str, label: &str, url: &str, sha256: Option<String>) -> Result<(), String> {
    check_source(id, url)?;
    if get(id).is_none_or(|m| m.url != url) {
        upsert(StoredModel { id: id.into(), label: label.into(), url: url.into(), size: 0.0, sha256, complete: false });
    }
    Ok(())
}

/// Downloads (or resumes) model `id` from `url`. Progress goes to `progress()`.
pub async fn download(id: String, label: String, url: String, sha256: Option<String>) -> Result<(), String> {
    check_source(&id, &url)?;
    if progress().with_untracked(|p| p.get(&id).is_some_and(|x| matches!(x.state, DlState::Downloading | DlState::Verifying))) {
        return Err(format!("{id} is already downloading"));
    }
    let mut rec = get(&id).filter(|m| m.url == url).unwrap_or(StoredModel { id: id.clone(), label: label.clone(), url: url.clone(), size: 0.0, sha256: sha256.clone(), complete: false });
    let file = rec.file();
    let mut have = if rec.complete { 0.0 } else { opfs::size(&file).await.unwrap_or(0.0) };
    rec.complete = false;
    upsert(rec.clone());
    set_progress(&id, |p| {
        *p = Progress { bytes: have, total: rec.size, speed: 0.0, state: DlState::Downloading, resumed_from: have };
    });
    let result = fetch_into(&id, &url, &file, &mut have, &mut rec).await;
    match result {
        Ok(()) => {
            set_progress(&id, |p| p.state = DlState::Verifying);
            let size = opfs::size(&file).await.unwrap_or(0.0);
            if rec.size > 0.0 && size != rec.size {
                let m = format!("size check failed: {size} bytes stored, the server said {}", rec.size);
                set_progress(&id, |p| p.state = DlState::Failed(m.clone()));
                return Err(m);
            }
            if let Some(want) = &rec.sha256 {
                let buf = opfs::read(&file).await?;
                let got = opfs::sha256_hex(&buf).await?;
                if !got.eq_ignore_ascii_case(want) {
                    let _ = opfs::remove(&file).await;
                    let m = format!("SHA-256 mismatch (got {}…): the file was deleted", &got[..12]);
                    set_progress(&id, |p| p.state = DlState::Failed(m.clone()));
                    return Err(m);
                }
            }
            rec.size = size;
            rec.complete = true;
            upsert(rec);
            set_progress(&id, |p| {
                p.state = DlState::Done;
                p.bytes = size;
                p.total = size;
            });
            Ok(())
        }
        Err(e) => {
            let kept = opfs::size(&file).await.unwrap_or(0.0);
            set_progress(&id, |p| {
                p.bytes = kept;
                p.state = DlState::Paused(e.clone());
            });
            Err(e)
        }
    }
}

async fn fetch_into(id: &str, url: &str, file: &str, have: &mut f64, rec: &mut StoredModel) -> Result<(), String> {
    let mut request = gloo_net::http::Request::get(url).credentials(web_sys::RequestCredentials::Omit);
    if *have > 0.0 {
        request = request.header("Range", &format!("bytes={}-", *have as u64));
    }
    let resp = request.send().await.map_err(|e| format!("connection failed: {} (check the URL; the server must allow this page's origin)", gloo_err(e)))?;
    let status = resp.status();
    let h = resp.headers();
    let total = match status {
        206 => {
            let (start, total) = h.get("content-range").as_deref().and_then(parse_content_range).ok_or("the server sent 206 without a Content-Range")?;
            if start != *have {
                return Err(format!("the server resumed at byte {start}, not {have}"));
            }
            total.unwrap_or(0.0)
        }
        200 => {
            // The server ignores Range: start again from zero.
            *have = 0.0;
            h.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0.0)
        }
        416 if rec.size > 0.0 && *have == rec.size => return Ok(()),
        s => return Err(format!("HTTP {s} from {}", url.split('/').take(3).collect::<Vec<_>>().join("/"))),
    };
    if total > 0.0 {
        rec.size = total;
        upsert(rec.clone());
    }
    let (usage, quota) = opfs::estimate().await.unwrap_or((0.0, 0.0));
    if let Some(m) = quota_message(total - *have, usage, quota) {
        return Err(m);
    }
    set_progress(id, |p| {
        p.total = total;
        p.bytes = *have;
        p.resumed_from = *have;
    });
    let body = resp.body().ok_or("empty response")?;
    let mut chunks = wasm_streams::ReadableStream::from_raw(body).into_stream();
    let mut writer = opfs::Writer::open(file, *have).await?;
    let mut since_commit = 0.0;
    let (mut t_mark, mut b_mark) = (now(), *have);
    loop {
        let chunk = match chunks.next().await {
            None => break,
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                let _ = writer.close().await;
                return Err(format!("the connection was cut after {} ({})", super::catalog::human_bytes(*have as u64), js_err(e)));
            }
        };
        let Ok(arr) = chunk.dyn_into::<Uint8Array>() else { continue };
        if let Err(e) = writer.write(&arr).await {
            let _ = writer.close().await;
            return Err(format!("cannot write the file: {e}"));
        }
        let n = f64::from(arr.length());
        *have += n;
        since_commit += n;
        if since_commit >= COMMIT_EVERY {
            writer.close().await?;
            writer = opfs::Writer::open(file, *have).await?;
            since_commit = 0.0;
        }
        let t = now();
        if t - t_mark >= 500.0 {
            let speed = (*have - b_mark) * 1000.0 / (t - t_mark);
            t_mark = t;
            b_mark = *have;
            let h2 = *have;
            set_progress(id, |p| {
                p.bytes = h2;
                p.speed = speed;
            });
        }
    }
    writer.close().await?;
    let h2 = *have;
    set_progress(id, |p| p.bytes = h2);
    if total > 0.0 && *have < total {
        return Err(format!("the connection ended early at {} of {}", super::catalog::human_bytes(*have as u64), super::catalog::human_bytes(total as u64)));
    }
    Ok(())
}

/// Stores a model from a local file (a file input).
pub async fn add_file(id: String, file: web_sys::File) -> Result<(), String> {
    if !valid_id(&id) {
        return Err("model id: use 1-64 letters, digits, - _ or .".into());
    }
    let size = file.size();
    let (usage, quota) = opfs::estimate().await.unwrap_or((0.0, 0.0));
    if let Some(m) = quota_message(size, usage, quota) {
        return Err(m);
    }
    let buf = JsFuture::from(file.array_buffer()).await.map_err(js_err)?;
    let w = opfs::Writer::open(&file_name(&id), 0.0).await?;
    w.write(&Uint8Array::new(&buf)).await?;
    w.close().await?;
    upsert(StoredModel { id: id.clone(), label: file.name(), url: format!("file:{}", file.name()), size, sha256: None, complete: true });
    set_progress(&id, |p| *p = Progress { bytes: size, total: size, speed: 0.0, state: DlState::Done, resumed_from: 0.0 });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_and_quota() {
        assert_eq!(parse_content_range("bytes 100-199/1000"), Some((100.0, Some(1000.0))));
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((5.0, None)));
        assert_eq!(parse_content_range("items 1-2/3"), None);
        assert!(quota_message(2e9, 1e9, 2.5e9).unwrap().contains("needs 2.00 GB more and only 1.50 GB is free"));
        assert_eq!(quota_message(1e6, 0.0, 1e9), None);
        assert_eq!(quota_message(1e6, 0.0, 0.0), None, "an unknown quota does not block");
        assert!(valid_id("smollm2-135m-q4_1") && !valid_id("../x") && !valid_id(""));
    }
}
