//! The origin-private file system (OPFS) through plain JS calls, plus the storage quota.
//!
//! Why OPFS and not IndexedDB for model files: a 100 MB-1 GB GGUF is written as it
//! streams (no copy of the whole file in memory), appended on resume (a writable opened
//! with `keepExistingData` and a seek), and read back as one `File` → `ArrayBuffer` for
//! the engine; IndexedDB would need the file split into records and reassembled.
//! web-sys marks these APIs unstable (behind a cfg flag the build does not set), so they
//! are called through `Reflect`.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn err(e: JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "storage error".into())
}

fn get(obj: &JsValue, name: &str) -> Result<JsValue, String> {
    Reflect::get(obj, &name.into()).map_err(err)
}

/// Calls `obj.name(...args)` and awaits it when it returns a promise.
pub async fn call(obj: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let f: Function = get(obj, name)?.dyn_into().map_err(|_| format!("this browser has no {name}()"))?;
    let arr: Array = args.iter().collect();
    let out = f.apply(obj, &arr).map_err(err)?;
    match out.dyn_into::<Promise>() {
        Ok(p) => JsFuture::from(p).await.map_err(err),
        Err(v) => Ok(v),
    }
}

fn opts(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o.into()
}

fn navigator_storage() -> Result<JsValue, String> {
    let nav = get(&js_sys::global(), "navigator")?;
    let st = get(&nav, "storage")?;
    if st.is_undefined() {
        return Err("this browser has no storage manager (navigator.storage)".into());
    }
    Ok(st)
}

/// (bytes used, quota) for this origin.
pub async fn estimate() -> Result<(f64, f64), String> {
    let e = call(&navigator_storage()?, "estimate", &[]).await?;
    let usage = get(&e, "usage")?.as_f64().unwrap_or(0.0);
    let quota = get(&e, "quota")?.as_f64().unwrap_or(0.0);
    Ok((usage, quota))
}

/// The `models` directory of the OPFS.
pub async fn models_dir() -> Result<JsValue, String> {
    let root = call(&navigator_storage()?, "getDirectory", &[]).await.map_err(|e| format!("no private file system: {e}"))?;
    call(&root, "getDirectoryHandle", &["models".into(), opts(&[("create", true.into())])]).await
}

pub async fn file_handle(name: &str, create: bool) -> Result<JsValue, String> {
    let dir = models_dir().await?;
    call(&dir, "getFileHandle", &[name.into(), opts(&[("create", create.into())])]).await
}

/// The size of a stored file, or None when there is none.
pub async fn size(name: &str) -> Option<f64> {
    let h = file_handle(name, false).await.ok()?;
    let f = call(&h, "getFile", &[]).await.ok()?;
    get(&f, "size").ok()?.as_f64()
}

/// The whole file as an ArrayBuffer.
pub async fn read(name: &str) -> Result<js_sys::ArrayBuffer, String> {
    let h = file_handle(name, false).await.map_err(|_| format!("{name} is not stored"))?;
    let f = call(&h, "getFile", &[]).await?;
    call(&f, "arrayBuffer", &[]).await?.dyn_into().map_err(|_| "not an ArrayBuffer".into())
}

pub async fn remove(name: &str) -> Result<(), String> {
    let dir = models_dir().await?;
    match call(&dir, "removeEntry", &[name.into()]).await {
        Ok(_) => Ok(()),
        Err(e) if e.contains("could not be found") || e.contains("NotFound") => Ok(()),
        Err(e) => Err(e),
    }
}

/// An open writable positioned at `at` (existing data kept up to `at`, the rest cut).
pub struct Writer {
    stream: JsValue,
}

impl Writer {
    pub async fn open(name: &str, at: f64) -> Result<Self, String> {
        let h = file_handle(name, true).await?;
        let stream = call(&h, "createWritable", &[opts(&[("keepExistingData", (at > 0.0).into())])]).await?;
        let w = Writer { stream };
        call(&w.stream, "truncate", &[at.into()]).await?;
        call(&w.stream, "seek", &[at.into()]).await?;
        Ok(w)
    }

    pub async fn write(&self, bytes: &js_sys::Uint8Array) -> Result<(), String> {
        call(&self.stream, "write", &[bytes.into()]).await.map(|_| ())
    }

    /// Commits what was written (OPFS writables land on disk only when closed).
    pub async fn close(self) -> Result<(), String> {
        call(&self.stream, "close", &[]).await.map(|_| ())
    }
}

/// Hex SHA-256 of a buffer (Web Crypto).
pub async fn sha256_hex(buf: &js_sys::ArrayBuffer) -> Result<String, String> {
    let crypto = get(&js_sys::global(), "crypto")?;
    let subtle = get(&crypto, "subtle")?;
    let digest = call(&subtle, "digest", &["SHA-256".into(), buf.into()]).await?;
    let bytes = js_sys::Uint8Array::new(&digest).to_vec();
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
