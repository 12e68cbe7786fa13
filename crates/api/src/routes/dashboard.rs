//! The marketer's dashboard at `/dashboard`: one page, its script and its styles, built into
//! the binary (no build step, nothing fetched from elsewhere). The page calls the public API
//! with the project's server key; this module only serves the files.
//!
//! The page is never cached (it names the assets' version); the assets live under a path with
//! a hash of their content, so they are cached for a year and a new binary's are fetched anew.

use crate::error::{ApiError, ErrorKey};
use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::response::{IntoResponse, Response};

const PAGE: &str = include_str!("../../assets/dashboard/index.html");
const SCRIPT: &str = include_str!("../../assets/dashboard/app.js");
const STYLES: &str = include_str!("../../assets/dashboard/app.css");

/// Only this origin's scripts, styles and API; no inline script, no framing, no referrer (the
/// page's address never leaves it).
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The assets' version: a hash of their content (FNV-1a, 64 bits).
pub fn version() -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in SCRIPT.bytes().chain(STYLES.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The page, naming the assets of this version.
pub fn page() -> String {
    PAGE.replace("$version", &version())
}

fn guarded(content_type: &'static str, cache: &'static str, body: impl IntoResponse) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, cache),
            (CONTENT_SECURITY_POLICY, POLICY),
            (REFERRER_POLICY, "no-referrer"),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (X_FRAME_OPTIONS, "DENY"),
        ],
        body,
    )
        .into_response()
}

/// `GET /dashboard`.
pub fn serve_page(page: String) -> Response {
    guarded("text/html; charset=utf-8", "no-cache", page)
}

/// `GET /dashboard/assets/{version}/{file}`: this binary's assets; another version's are 404,
/// so a stale page never runs with a newer script.
pub async fn asset(Path((version, file)): Path<(String, String)>) -> Response {
    let missing = || ApiError::new(ErrorKey::NotFound).details("No such dashboard asset").into_response();
    if version != self::version() {
        return missing();
    }
    let immutable = "public, max-age=31536000, immutable";
    match file.as_str() {
        "app.js" => guarded("text/javascript; charset=utf-8", immutable, SCRIPT),
        "app.css" => guarded("text/css; charset=utf-8", immutable, STYLES),
        _ => missing(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_names_this_versions_assets() {
        let page = super::page();
        assert!(!page.contains("$version"));
        assert_eq!(page.matches(&super::version()).count(), 2);
        assert_eq!(super::version().len(), 16);
    }
}
