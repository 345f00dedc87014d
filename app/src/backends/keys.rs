//! API keys at rest: never stored as plain text.
//!
//! Each key is sealed with AES-GCM (the profile name as associated data, so a sealed key
//! cannot be moved to another profile) under one *device key*: a WebCrypto AES-256 key
//! created non-extractable and kept in IndexedDB (`council-secrets`), so script can ask the
//! browser to use it but can never read its bytes. Sealed keys live in one of two places:
//!
//! - **this tab only** (the default): `sessionStorage`, which the browser drops when the
//!   tab closes (a reload keeps it);
//! - **remembered on this device** (opt-in per profile): `localStorage`.
//!
//! What this protects against: a key showing up in plain text on disk, in DevTools'
//! storage panes, in profile backups or sync, or to anyone who copies the storage files.
//! What it cannot: script running *inside* this page can ask the browser to decrypt, as
//! the app does. Keeping script out is the Content-Security-Policy's job (no inline or
//! foreign script, connections only to configured hosts; see `crate::csp`). The settings
//! view says the same to the user.
//!
//! Keys are decrypted only when a run starts (`reveal`), into the run's own settings
//! value; they never go into links, exports, run logs or the console.

use std::collections::BTreeMap;

use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use js_sys::{Array, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::CryptoKey;

use super::settings::{self, Settings};

/// Where sealed keys are kept (the same name in sessionStorage and localStorage).
pub const VAULT_KEY: &str = "council.keys.v1";
const DB_NAME: &str = "council-secrets";
const STORE: &str = "device-keys";
const DEVICE_KEY_ID: &str = "aes-gcm-1";

/// Where a profile's key is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    None,
    /// sessionStorage: gone when the tab closes.
    Tab,
    /// localStorage: kept until deleted.
    Device,
}

impl Place {
    pub fn label(self) -> &'static str {
        match self {
            Place::None => "none",
            Place::Tab => "this tab only",
            Place::Device => "remembered on this device",
        }
    }
}

/// One sealed key: hex IV and hex ciphertext (with the GCM tag).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sealed {
    pub iv: String,
    pub ct: String,
}

type Vault = BTreeMap<String, Sealed>;

fn storage(place: Place) -> Option<web_sys::Storage> {
    let w = web_sys::window()?;
    match place {
        Place::Tab => w.session_storage().ok()?,
        Place::Device => w.local_storage().ok()?,
        Place::None => None,
    }
}

fn read_vault(place: Place) -> Vault {
    storage(place).and_then(|s| s.get_item(VAULT_KEY).ok().flatten()).and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

fn write_vault(place: Place, v: &Vault) -> Result<(), String> {
    let s = storage(place).ok_or("this browser blocks storage for this page")?;
    let r = if v.is_empty() { s.remove_item(VAULT_KEY) } else { s.set_item(VAULT_KEY, &serde_json::to_string(v).map_err(|e| e.to_string())?) };
    r.map_err(|_| "cannot save the key (storage full or blocked)".to_string())
}

/// Where `profile`'s key is (a tab key wins: it is the one typed most recently).
pub fn place(profile: &str) -> Place {
    if read_vault(Place::Tab).contains_key(profile) {
        Place::Tab
    } else if read_vault(Place::Device).contains_key(profile) {
        Place::Device
    } else {
        Place::None
    }
}

/// Drops `profile`'s key from both places.
pub fn forget(profile: &str) -> Result<(), String> {
    for p in [Place::Tab, Place::Device] {
        let mut v = read_vault(p);
        if v.remove(profile).is_some() {
            write_vault(p, &v)?;
        }
    }
    Ok(())
}

/// Drops every key, and the device key itself.
pub async fn forget_all() -> Result<(), String> {
    write_vault(Place::Tab, &Vault::new())?;
    write_vault(Place::Device, &Vault::new())?;
    let db = open_db().await?;
    let tx = db.transaction(STORE).with_mode(TransactionMode::Readwrite).build().map_err(js)?;
    tx.object_store(STORE).map_err(js)?.clear().map_err(js)?.await.map_err(js)?;
    tx.commit().await.map_err(js)
}

fn js(e: impl std::fmt::Display) -> String {
    format!("key storage: {e}")
}

fn js_err(e: JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| "WebCrypto failed".into())
}

fn crypto() -> Result<web_sys::Crypto, String> {
    web_sys::window().ok_or("no window")?.crypto().map_err(|_| "this browser has no WebCrypto".to_string())
}

async fn open_db() -> Result<Database, String> {
    Database::open(DB_NAME)
        .with_version(1u32)
        .with_on_upgrade_needed(|_, db| {
            db.create_object_store(STORE).build()?;
            Ok(())
        })
        .await
        .map_err(js)
}

/// The device key: read from IndexedDB, or created non-extractable and stored. Two tabs
/// creating one at once: `add` refuses the second, which then reads the first's.
async fn device_key() -> Result<CryptoKey, String> {
    let db = open_db().await?;
    if let Some(k) = read_device_key(&db).await? {
        return Ok(k);
    }
    let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
    let params = web_sys::AesKeyGenParams::new("AES-GCM", 256);
    let promise = crypto()?.subtle().generate_key_with_object(&params, false, &usages).map_err(js_err)?;
    let key: CryptoKey = JsFuture::from(promise).await.map_err(js_err)?.unchecked_into();
    let added = async {
        let tx = db.transaction(STORE).with_mode(TransactionMode::Readwrite).build().map_err(js)?;
        tx.object_store(STORE).map_err(js)?.add(JsValue::from(key.clone())).with_key(DEVICE_KEY_ID).primitive().map_err(js)?.await.map_err(js)?;
        tx.commit().await.map_err(js)
    }
    .await;
    match added {
        Ok(()) => Ok(key),
        Err(e) => read_device_key(&db).await?.ok_or(e),
    }
}

async fn read_device_key(db: &Database) -> Result<Option<CryptoKey>, String> {
    let tx = db.transaction(STORE).build().map_err(js)?;
    let v: Option<JsValue> = tx.object_store(STORE).map_err(js)?.get(DEVICE_KEY_ID).primitive().map_err(js)?.await.map_err(js)?;
    Ok(v.and_then(|v| v.dyn_into::<CryptoKey>().ok()))
}

fn gcm(iv: &[u8], profile: &str) -> web_sys::AesGcmParams {
    let p = web_sys::AesGcmParams::new("AES-GCM", &Uint8Array::from(iv));
    p.set_additional_data(&Uint8Array::from(profile.as_bytes()));
    p
}

async fn seal(profile: &str, plain: &str) -> Result<Sealed, String> {
    let key = device_key().await?;
    let mut iv = [0u8; 12];
    crypto()?.get_random_values_with_u8_array(&mut iv).map_err(js_err)?;
    let promise = crypto()?.subtle().encrypt_with_object_and_u8_array(&gcm(&iv, profile), &key, plain.as_bytes()).map_err(js_err)?;
    let ct = Uint8Array::new(&JsFuture::from(promise).await.map_err(js_err)?).to_vec();
    Ok(Sealed { iv: hex(&iv), ct: hex(&ct) })
}

async fn unseal(profile: &str, s: &Sealed) -> Result<String, String> {
    let bad = || format!("the saved key of profile \"{profile}\" cannot be read (this browser's key store was cleared?): enter it again on the Models & keys page");
    let (Some(iv), Some(ct)) = (unhex(&s.iv), unhex(&s.ct)) else { return Err(bad()) };
    let key = device_key().await?;
    let promise = crypto()?.subtle().decrypt_with_object_and_u8_array(&gcm(&iv, profile), &key, &ct).map_err(js_err)?;
    let plain = JsFuture::from(promise).await.map_err(|_| bad())?;
    String::from_utf8(Uint8Array::new(&plain).to_vec()).map_err(|_| bad())
}

/// Seals `key` for `profile` in the tab (`remember` false) or on the device, and removes
/// any copy in the other place.
pub async fn store(profile: &str, key: &str, remember: bool) -> Result<(), String> {
    let sealed = seal(profile, key).await?;
    let (to, other) = if remember { (Place::Device, Place::Tab) } else { (Place::Tab, Place::Device) };
    let mut v = read_vault(to);
    v.insert(profile.to_string(), sealed);
    write_vault(to, &v)?;
    let mut o = read_vault(other);
    if o.remove(profile).is_some() {
        write_vault(other, &o)?;
    }
    Ok(())
}

/// Moves `profile`'s stored key to the tab or the device without the user typing it again.
pub async fn move_to(profile: &str, remember: bool) -> Result<(), String> {
    let from = place(profile);
    if from == Place::None || (from == Place::Device) == remember {
        return Ok(());
    }
    let sealed = read_vault(from).get(profile).cloned().ok_or("no key to move")?;
    let plain = unseal(profile, &sealed).await?;
    store(profile, &plain, remember).await
}

/// Fills in the key of each profile named in `used` that has one stored (for a run about
/// to start; other profiles' keys stay sealed). A key that cannot be unsealed is an error
/// naming the profile.
pub async fn reveal(s: &mut Settings, used: &[&str]) -> Result<(), String> {
    let (tab, device) = (read_vault(Place::Tab), read_vault(Place::Device));
    for p in s.profiles.iter_mut().filter(|p| used.contains(&p.name.as_str())) {
        if let Some(sealed) = tab.get(&p.name).or_else(|| device.get(&p.name)) {
            p.key = unseal(&p.name, sealed).await?;
        }
    }
    Ok(())
}

/// Whether the saved settings still hold a key in plain text (saved by an older version).
pub fn has_plain_keys() -> bool {
    settings::load().profiles.iter().any(|p| !p.key.is_empty())
}

/// Settings saved by earlier versions held keys in plain text in localStorage: seal each
/// one on the device (the user had chosen to keep it) and rewrite the settings without it.
/// Returns how many keys moved.
pub async fn migrate_plain_keys() -> Result<usize, String> {
    let s = settings::load();
    let plain: Vec<(String, String)> = s.profiles.iter().filter(|p| !p.key.is_empty()).map(|p| (p.name.clone(), p.key.clone())).collect();
    for (name, key) in &plain {
        store(name, key, true).await?;
    }
    if !plain.is_empty() {
        settings::save(&s)?;
    }
    Ok(plain.len())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_junk() {
        let b = [0u8, 1, 0xab, 0xff, 0x10];
        assert_eq!(hex(&b), "0001abff10");
        assert_eq!(unhex("0001abff10").as_deref(), Some(&b[..]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("é0"), None);
    }
}
