//! The page's `connect-src`: which hosts the page may fetch from.
//!
//! The static policy (the `<meta>` in `app/index.html` and the static server's header) is
//! strict about scripts but has to allow any https host and loopback for connections: the
//! endpoints a user configures live only in this browser, so neither the build nor the
//! server can know them. Before the app renders anything (first thing in `main`), [`install`]
//! adds a second policy, `connect-src` listing only this origin, the model hosts, loopback
//! servers (Ollama, llama.cpp, LM Studio run there) and the origins of the remote profiles
//! and model downloads the user set up. A page is bound by every policy it has, and a
//! policy added later can only take permissions away, so script that gets in later (a
//! payload in a shared link, say) can neither widen it nor send data to a host of its own.
//!
//! A new endpoint therefore needs a reload to be reachable: saving a profile or adding a
//! model download from a host the page does not allow yet stores it and reloads the page
//! (see [`page_allows`]); the new policy then lists it.

use crate::backends::settings::Settings;

/// Where the bundled models come from: Hugging Face, which redirects file downloads to
/// its CDN hosts (every hop of a redirect must be allowed).
pub const MODEL_HOSTS: [&str; 3] = ["https://huggingface.co", "https://*.huggingface.co", "https://*.hf.co"];

/// Local servers on this machine, any port.
/// (IPv6 literals such as `[::1]` cannot be written in a CSP source list.)
pub const LOOPBACK: [&str; 2] = ["http://127.0.0.1:*", "http://localhost:*"];

/// Marks the policy [`install`] writes, so the page can read its own list back.
const META_MARK: &str = "data-council-connect";

/// `scheme://host[:port]` of an http(s) URL: lower-cased, default port dropped. None for
/// other schemes, user info, or a host with characters a CSP source cannot carry.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains(['@', '\\']) {
        return None;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inside, after) = v6.split_once(']')?;
        if inside.is_empty() || !inside.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return None;
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (format!("[{}]", inside.to_ascii_lowercase()), port)
    } else {
        let (h, p) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let h = h.to_ascii_lowercase();
        if h.is_empty() || h.starts_with(['.', '-']) || !h.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
            return None;
        }
        (h, p)
    };
    match port {
        None => Some(format!("{scheme}://{host}")),
        Some(p) if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) => None,
        Some(p) if p.parse::<u32>().map_or(true, |n| n > 65535) => None,
        Some(p) if p.trim_start_matches('0') == default_port => Some(format!("{scheme}://{host}")),
        Some(p) => Some(format!("{scheme}://{host}:{}", p.trim_start_matches('0'))),
    }
}

/// The `connect-src` sources for a page whose user configured `endpoints` (profile and
/// model URLs): `'self'`, the model hosts, loopback, then each endpoint's origin once.
/// Relative URLs (same origin) and unreadable ones add nothing.
pub fn connect_sources<'a>(endpoints: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = std::iter::once("'self'").chain(MODEL_HOSTS).chain(LOOPBACK).map(str::to_string).collect();
    // IPv6 literals cannot be written in a source list (Chromium drops the whole source).
    let mut extra: Vec<String> = endpoints.into_iter().filter_map(origin_of).filter(|o| !o.contains('[') && !allows(&out, "", o)).collect();
    extra.sort();
    extra.dedup();
    out.extend(extra);
    out
}

/// Whether `sources` (the forms [`connect_sources`] writes) let a page at `self_origin`
/// connect to `url`. Relative URLs are same-origin.
pub fn allows(sources: &[String], self_origin: &str, url: &str) -> bool {
    let target = if url.starts_with('/') && !url.starts_with("//") { Some(self_origin.to_string()) } else { origin_of(url) };
    let Some(target) = target else { return false };
    let (t_scheme, t_rest) = target.split_once("://").unwrap_or(("", ""));
    let (t_host, t_port) = split_port(t_rest, t_scheme);
    sources.iter().any(|s| {
        if s == "'self'" {
            return !self_origin.is_empty() && origin_of(self_origin).as_deref() == Some(target.as_str());
        }
        let Some((scheme, rest)) = s.split_once("://") else { return false };
        if scheme != t_scheme {
            return false;
        }
        let (host, port) = split_port(rest, scheme);
        let host_ok = match host.strip_prefix("*.") {
            Some(suffix) => t_host.len() > suffix.len() + 1 && t_host.ends_with(&format!(".{suffix}")),
            None => host == t_host,
        };
        host_ok && (port == "*" || port == t_port)
    })
}

/// ("host", "port") of `host[:port]`, with the scheme's default port filled in.
fn split_port<'a>(hp: &'a str, scheme: &str) -> (&'a str, &'a str) {
    let default = if scheme == "https" { "443" } else { "80" };
    if let Some(end) = hp.find(']') {
        let (h, rest) = hp.split_at(end + 1);
        return (h, rest.strip_prefix(':').unwrap_or(default));
    }
    match hp.rsplit_once(':') {
        Some((h, p)) => (h, p),
        None => (hp, default),
    }
}

/// `url` when it is safe to put in an `<a href>`: an absolute http(s) URL with a plain host
/// (no `javascript:`, `data:`, user info or relative tricks). Content from links and imports
/// goes through this at render time, whatever the core already checked.
pub fn safe_link(url: &str) -> Option<&str> {
    let u = url.trim();
    let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(())?;
    origin_of(u)?;
    (!u.contains(|c: char| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>' || c == '\\')).then_some(u)
}

/// Every endpoint the user configured: remote profile URLs and model download URLs.
pub fn endpoints(settings: &Settings, models: &[crate::models::download::StoredModel]) -> Vec<String> {
    settings.profiles.iter().map(|p| p.url.clone()).chain(models.iter().map(|m| m.url.clone())).collect()
}

/// Adds the narrowed `connect-src` policy to the page (once). Called before the app mounts.
pub fn install() {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    if doc.query_selector(&format!("meta[{META_MARK}]")).ok().flatten().is_some() {
        return;
    }
    let urls = endpoints(&crate::backends::settings::load(), &crate::models::download::list());
    let sources = connect_sources(urls.iter().map(String::as_str));
    let Ok(meta) = doc.create_element("meta") else { return };
    let _ = meta.set_attribute("http-equiv", "Content-Security-Policy");
    let _ = meta.set_attribute("content", &format!("connect-src {}", sources.join(" ")));
    let _ = meta.set_attribute(META_MARK, "");
    if let Ok(Some(head)) = doc.query_selector("head") {
        let _ = head.append_child(&meta);
    }
}

/// The sources of the policy [`install`] wrote (None before it ran).
pub fn installed_sources() -> Option<Vec<String>> {
    let doc = web_sys::window()?.document()?;
    let content = doc.query_selector(&format!("meta[{META_MARK}]")).ok()??.get_attribute("content")?;
    Some(content.strip_prefix("connect-src")?.split_whitespace().map(str::to_string).collect())
}

/// Whether this page, as loaded, may fetch `url` (true when no narrowed policy is in place).
pub fn page_allows(url: &str) -> bool {
    let Some(sources) = installed_sources() else { return true };
    let here = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    allows(&sources, &here, url)
}

/// Reloads the page so the policy is computed again from the stored settings.
pub fn reload() {
    if let Some(w) = web_sys::window() {
        let _ = w.location().reload();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised_and_junk_is_refused() {
        assert_eq!(origin_of("https://API.OpenAI.com/v1/chat").as_deref(), Some("https://api.openai.com"));
        assert_eq!(origin_of("http://127.0.0.1:8000/v1").as_deref(), Some("http://127.0.0.1:8000"));
        assert_eq!(origin_of("https://x.org:443/a").as_deref(), Some("https://x.org"));
        assert_eq!(origin_of("http://[::1]:11434").as_deref(), Some("http://[::1]:11434"));
        assert_eq!(origin_of("http://x.org?q").as_deref(), Some("http://x.org"));
        for bad in [
            "javascript:alert(1)",
            "ftp://x.org",
            "https://user:pw@x.org",
            "https://x.org;script-src *",
            "https://a b.org",
            "https://x.org:99999",
            "https://x.org:",
            "https://",
            "http://[zz]:1",
            "data:text/html,x",
            "/relative",
        ] {
            assert_eq!(origin_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn sources_list_self_models_loopback_and_each_endpoint_once() {
        let s = connect_sources(["https://api.example.com/v1", "https://API.example.com/other", "http://127.0.0.1:8000/v1", "/models/x.gguf", "file:x.gguf", "https://evil.org;script-src *", "http://[::1]:8000/"]);
        assert_eq!(s[0], "'self'");
        assert!(s.contains(&"https://*.hf.co".to_string()));
        assert_eq!(s.iter().filter(|x| x.as_str() == "https://api.example.com").count(), 1);
        assert!(!s.iter().any(|x| x.contains("8000")), "loopback is already covered by its wildcard");
        assert!(!s.iter().any(|x| x.contains(';') || x.contains("evil") || x.contains('[')));
        assert_eq!(s.len(), 1 + MODEL_HOSTS.len() + LOOPBACK.len() + 1);
    }

    #[test]
    fn only_plain_http_links_are_rendered() {
        assert_eq!(safe_link("https://arxiv.org/abs/2305.14325"), Some("https://arxiv.org/abs/2305.14325"));
        assert_eq!(safe_link(" HTTP://example.org/x "), Some("HTTP://example.org/x"));
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "java\0script:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
            "//evil.org/x",
            "/relative",
            "https://user@evil.org/",
            "https://x.org/a b",
            "https://x.org/\"onmouseover=\"x",
            "https:javascript:alert(1)",
            "",
        ] {
            assert_eq!(safe_link(bad), None, "{bad}");
        }
    }

    #[test]
    fn matching_follows_csp_host_and_port_rules() {
        let s = connect_sources(["https://api.example.com/v1"]);
        let here = "http://127.0.0.1:8080";
        assert!(allows(&s, here, "https://api.example.com/v1/chat/completions"));
        assert!(allows(&s, here, "/models/m.gguf"));
        assert!(allows(&s, here, "http://127.0.0.1:8080/x"));
        assert!(allows(&s, here, "http://localhost:11434/api/chat"));
        assert!(allows(&s, here, "https://huggingface.co/QuantFactory/x.gguf"));
        assert!(allows(&s, here, "https://cas-bridge.xethub.hf.co/x"));
        assert!(!allows(&s, here, "https://hf.co/x"), "*.hf.co needs a subdomain");
        assert!(!allows(&s, here, "https://api.example.com:8443/v1"), "another port");
        assert!(!allows(&s, here, "http://api.example.com/v1"), "another scheme");
        assert!(!allows(&s, here, "https://evil.example.org/steal"));
        assert!(!allows(&s, here, "https://api.example.com.evil.org/"));
        assert!(!allows(&s, here, "//evil.org/x"));
        assert!(!allows(&s, here, "javascript:alert(1)"));
    }
}
