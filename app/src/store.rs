//! Run history in IndexedDB (database `council`).
//!
//! Schema, versioned with ordered migrations (`MIGRATIONS[i]` upgrades version i to i+1;
//! never edit a shipped one, append a new one):
//! - v1: store `runs` (key path `id`): a small summary per run, for the list;
//!   store `bodies` (key path `id`): the full run (scenario, cast, event log, metrics) as
//!   JSON text, so any u64 seed and any log survive unchanged.
//! - v2: store `policies` (key path `name`): trained conductor policies from the training
//!   view ([`StoredPolicy`]: the policy file as JSON text, its reward curve and how it was
//!   trained), which a scenario's conductor can follow (`mechanism.params.policy`).
//!
//! A run is written to both stores in one transaction, so a failure (quota!) leaves older
//! runs exactly as they were. Errors come back as one readable sentence for the banner.

use crate::AppCtx;
use crate::run::RunData;
use leptos::prelude::Update;
use leptos::task::spawn_local;
use std::sync::Arc;
use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use serde::{Deserialize, Serialize};

pub const DB_NAME: &str = "council";
pub const DB_VERSION: u32 = 2;

/// The list entry for one stored run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: String,
    pub name: String,
    pub title: String,
    pub seed: String,
    pub determinism: String,
    pub created_ms: f64,
    pub events: u32,
    pub metrics: Vec<(String, f64)>,
}

#[derive(Serialize, Deserialize)]
struct RunBody {
    id: String,
    json: String,
}

impl RunSummary {
    pub fn of(run: &RunData) -> Self {
        RunSummary {
            id: run.id.clone(),
            name: run.name.clone(),
            title: run.title(),
            seed: run.seed.to_string(),
            determinism: run.determinism.clone(),
            created_ms: run.created_ms,
            events: run.log.len() as u32,
            metrics: run.metrics.clone(),
        }
    }
}

type Migration = fn(&Database) -> indexed_db_futures::Result<()>;

const MIGRATIONS: [Migration; DB_VERSION as usize] = [
    |db| {
        db.create_object_store("runs").with_key_path("id".into()).build()?;
        db.create_object_store("bodies").with_key_path("id".into()).build()?;
        Ok(())
    },
    |db| {
        db.create_object_store("policies").with_key_path("name".into()).build()?;
        Ok(())
    },
];

/// A trained policy as the training view keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredPolicy {
    /// Also the name a scenario's conductor uses (`mechanism.params.policy`).
    pub name: String,
    pub created_ms: f64,
    /// The policy file (`council_core::policy::PolicyNet` as JSON).
    pub json: String,
    /// Mean reward per training step.
    pub curve: Vec<f64>,
    pub seed: String,
    pub steps: u32,
    /// `wgpu` or `cpu`.
    pub backend: String,
    pub curve_hash: String,
}

impl StoredPolicy {
    /// The network, checked (a stored record is read like any file).
    pub fn net(&self) -> Result<council_core::policy::PolicyNet, String> {
        council_core::policy::PolicyNet::from_json(&self.json).map_err(|e| format!("stored policy {}: {e}", self.name))
    }
}

pub async fn save_policy(db: &Database, p: &StoredPolicy) -> Result<(), String> {
    let tx = db.transaction("policies").with_mode(TransactionMode::Readwrite).build().map_err(explain)?;
    tx.object_store("policies").map_err(explain)?.put(p.clone()).serde().map_err(explain)?.await.map_err(explain)?;
    tx.commit().await.map_err(explain)
}

/// Stored policies, newest first (records this build cannot read are skipped).
pub async fn list_policies(db: &Database) -> Result<Vec<StoredPolicy>, String> {
    let tx = db.transaction("policies").build().map_err(explain)?;
    let store = tx.object_store("policies").map_err(explain)?;
    let mut out: Vec<StoredPolicy> = store.get_all().serde().map_err(explain)?.await.map_err(explain)?.flatten().collect();
    out.sort_by(|a, b| b.created_ms.total_cmp(&a.created_ms));
    Ok(out)
}

pub async fn load_policy(db: &Database, name: &str) -> Result<StoredPolicy, String> {
    let tx = db.transaction("policies").build().map_err(explain)?;
    let p: Option<StoredPolicy> = tx.object_store("policies").map_err(explain)?.get(name.to_string()).serde().map_err(explain)?.await.map_err(explain)?;
    p.ok_or_else(|| format!("there is no stored policy named \"{name}\"; train one in the training view"))
}

pub async fn delete_policy(db: &Database, name: &str) -> Result<(), String> {
    let tx = db.transaction("policies").with_mode(TransactionMode::Readwrite).build().map_err(explain)?;
    tx.object_store("policies").map_err(explain)?.delete(name.to_string()).primitive().map_err(explain)?.await.map_err(explain)?;
    tx.commit().await.map_err(explain)
}

/// Turns a storage error into a sentence a user can act on.
pub fn explain(e: impl std::fmt::Display) -> String {
    let s = e.to_string();
    if s.contains("Quota") || s.contains("quota") {
        "Browser storage is full, so this run was not saved. Delete old runs on the Runs page and try again; your saved runs are untouched.".into()
    } else {
        format!("Run history is unavailable: {s}")
    }
}

/// Opens (and if needed upgrades) the database. `on_blocked` is told when another tab
/// holds an older version open.
pub async fn open(on_blocked: impl Fn(String) + 'static) -> Result<Database, String> {
    Database::open(DB_NAME)
        .with_version(DB_VERSION)
        .with_on_blocked(move |_| {
            on_blocked(
                "Council is open in another tab with an older run-history format. Close that tab to finish the upgrade; nothing has been lost."
                    .into(),
            );
            Ok(())
        })
        .with_on_upgrade_needed(|ev, db| {
            let from = ev.old_version() as usize;
            for m in MIGRATIONS.iter().skip(from) {
                m(&db)?;
            }
            Ok(())
        })
        .await
        .map_err(explain)
}

pub async fn save(db: &Database, run: &RunData) -> Result<(), String> {
    let json = serde_json::to_string(run).map_err(|e| e.to_string())?;
    let tx = db.transaction(["runs", "bodies"]).with_mode(TransactionMode::Readwrite).build().map_err(explain)?;
    let runs = tx.object_store("runs").map_err(explain)?;
    let bodies = tx.object_store("bodies").map_err(explain)?;
    runs.put(RunSummary::of(run)).serde().map_err(explain)?.await.map_err(explain)?;
    bodies.put(RunBody { id: run.id.clone(), json }).serde().map_err(explain)?.await.map_err(explain)?;
    tx.commit().await.map_err(explain)
}

/// All stored runs, newest first.
pub async fn list(db: &Database) -> Result<Vec<RunSummary>, String> {
    let tx = db.transaction("runs").build().map_err(explain)?;
    let store = tx.object_store("runs").map_err(explain)?;
    let mut out: Vec<RunSummary> = Vec::new();
    // A record this build cannot read is skipped, not fatal.
    for s in store.get_all().serde().map_err(explain)?.await.map_err(explain)?.flatten() {
        out.push(s);
    }
    out.sort_by(|a, b| b.created_ms.total_cmp(&a.created_ms));
    Ok(out)
}

pub async fn load(db: &Database, id: &str) -> Result<RunData, String> {
    let tx = db.transaction("bodies").build().map_err(explain)?;
    let store = tx.object_store("bodies").map_err(explain)?;
    let body: Option<RunBody> = store.get(id.to_string()).serde().map_err(explain)?.await.map_err(explain)?;
    let body = body.ok_or_else(|| format!("run {id} is not in the history"))?;
    serde_json::from_str(&body.json).map_err(|e| format!("stored run {id} cannot be read: {e}"))
}

pub async fn rename(db: &Database, id: &str, name: &str) -> Result<(), String> {
    let mut run = load(db, id).await?;
    run.name = name.chars().take(120).collect();
    save(db, &run).await
}

pub async fn delete(db: &Database, id: &str) -> Result<(), String> {
    let tx = db.transaction(["runs", "bodies"]).with_mode(TransactionMode::Readwrite).build().map_err(explain)?;
    tx.object_store("runs").map_err(explain)?.delete(id.to_string()).primitive().map_err(explain)?.await.map_err(explain)?;
    tx.object_store("bodies").map_err(explain)?.delete(id.to_string()).primitive().map_err(explain)?.await.map_err(explain)?;
    tx.commit().await.map_err(explain)
}

/// Saves a run to the history; failures go to the banner and leave older runs intact.
pub fn save_run(ctx: AppCtx, run: Arc<RunData>) {
    spawn_local(async move {
        let res = async {
            let db = open(move |m| ctx.fail(m)).await?;
            save(&db, &run).await
        }
        .await;
        match res {
            Ok(()) => ctx.history_version.update(|v| *v += 1),
            Err(e) => ctx.fail(e),
        }
    });
}
