//! Hash routes: `#/` gallery, `#/s/<id>` a built-in scenario, `#/runs` history, `#/about`,
//! `#/train` learned orchestration,
//! and `#s=<version>.<payload>` for a scenario shared by link. Parsing is pure so it is tested
//! natively; the app listens to `hashchange` and re-parses.

/// Where the app is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Gallery,
    /// A built-in scenario by id.
    Scenario(String),
    /// A scenario carried in the link itself (`#s=...`), still encoded.
    Shared(String),
    Runs,
    About,
    /// Local models and remote API profiles.
    Models,
    /// Learned orchestration: train, store and compare conductor policies.
    Train,
    /// A hash we do not know; the app shows the gallery with a message.
    Unknown(String),
}

/// Reads a `location.hash` value (with or without the leading `#`).
pub fn parse(hash: &str) -> Route {
    let h = hash.strip_prefix('#').unwrap_or(hash);
    if let Some(link) = h.strip_prefix("s=") {
        return Route::Shared(link.to_string());
    }
    let path = h.strip_prefix('/').unwrap_or(h);
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    match (parts.next(), parts.next(), parts.next()) {
        (None, _, _) => Route::Gallery,
        (Some("s"), Some(id), None) if valid_id(id) => Route::Scenario(id.to_string()),
        (Some("runs"), None, _) => Route::Runs,
        (Some("about"), None, _) => Route::About,
        (Some("models"), None, _) => Route::Models,
        (Some("train"), None, _) => Route::Train,
        _ => Route::Unknown(h.to_string()),
    }
}

/// The hash for a route (what `href` attributes use).
pub fn href(route: &Route) -> String {
    match route {
        Route::Gallery => "#/".into(),
        Route::Scenario(id) => format!("#/s/{id}"),
        Route::Shared(link) => format!("#s={link}"),
        Route::Runs => "#/runs".into(),
        Route::About => "#/about".into(),
        Route::Models => "#/models".into(),
        Route::Train => "#/train".into(),
        Route::Unknown(h) => format!("#{h}"),
    }
}

/// Scenario ids are short slugs; anything else is treated as an unknown route.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_route_and_round_trips() {
        for (hash, route) in [
            ("", Route::Gallery),
            ("#/", Route::Gallery),
            ("#/s/debate-basic", Route::Scenario("debate-basic".into())),
            ("#/runs", Route::Runs),
            ("#/about", Route::About),
            ("#/train", Route::Train),
            ("#s=1.abcDEF_-", Route::Shared("1.abcDEF_-".into())),
        ] {
            assert_eq!(parse(hash), route, "{hash}");
            if !hash.is_empty() {
                assert_eq!(href(&route), hash);
            }
        }
    }

    #[test]
    fn junk_is_unknown_not_a_scenario() {
        assert!(matches!(parse("#/s/<script>"), Route::Unknown(_)));
        assert!(matches!(parse("#/nope"), Route::Unknown(_)));
        assert!(matches!(parse("#/s/a/b"), Route::Unknown(_)));
    }
}
