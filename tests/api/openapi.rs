//! The committed OpenAPI document matches what the server serves.

use crate::helpers::*;
use axum::http::{Method, StatusCode};

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");

#[tokio::test]
async fn committed_openapi_matches_the_served_document() {
    let app = TestApp::new().await;
    let served = app.request(Method::GET, "/openapi.json", Auth::None, None).await;
    served.assert_status(StatusCode::OK);
    let served = String::from_utf8(served.body).expect("utf-8");
    assert_eq!(served, serde_json::to_string_pretty(&promo_api::openapi()).expect("json"));
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(COMMITTED, format!("{served}\n")).expect("write openapi/openapi.json");
    }
    let committed = std::fs::read_to_string(COMMITTED).expect("openapi/openapi.json exists");
    assert!(
        committed.trim_end() == served,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p promo-tests openapi`"
    );
}

#[tokio::test]
async fn the_docs_page_is_served_with_its_renderer_from_this_service() {
    let app = TestApp::new().await;
    let r = app.request(Method::GET, "/docs", Auth::None, None).await;
    r.assert_status(StatusCode::OK);
    let html = String::from_utf8_lossy(&r.body);
    assert!(html.contains("\"openapi\""), "the document is in the page");
    assert!(html.contains("src=\"/docs/assets/redoc.standalone.js\""));
    // nothing from another host: no absolute URL in a src or href
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"), "{html}");
    let js = app.request(Method::GET, "/docs/assets/redoc.standalone.js", Auth::None, None).await;
    js.assert_status(StatusCode::OK);
    assert!(js.headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(js.headers.contains_key("cache-control"));
    assert!(js.body.len() > 100_000);
    app.request(Method::GET, "/docs/assets/other.js", Auth::None, None).await.assert_status(StatusCode::NOT_FOUND);
}

/// The dashboard: a page that is never cached and names its assets by a hash of their
/// content (cached for a year); a strict content security policy; another hash is 404.
#[tokio::test]
async fn the_dashboard_is_served_from_the_binary_with_caching_and_a_strict_policy() {
    let app = TestApp::new().await;
    let r = app.request(Method::GET, "/dashboard", Auth::None, None).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.headers["cache-control"], "no-cache");
    let policy = r.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(r.headers["referrer-policy"], "no-referrer");
    let html = String::from_utf8_lossy(&r.body).into_owned();
    assert!(!html.contains("<script>") && !html.contains("src=\"http"), "no inline or foreign script: {html}");
    let script = html.split("src=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_owned();
    assert!(script.starts_with("/dashboard/assets/") && script.ends_with("/app.js"), "{script}");
    let js = app.request(Method::GET, &script, Auth::None, None).await;
    js.assert_status(StatusCode::OK);
    assert_eq!(js.headers["cache-control"], "public, max-age=31536000, immutable");
    assert!(js.headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(String::from_utf8_lossy(&js.body).contains("sessionStorage"));
    let css = script.replace("app.js", "app.css");
    app.request(Method::GET, &css, Auth::None, None).await.assert_status(StatusCode::OK);
    let stale = "/dashboard/assets/0000000000000000/app.js";
    app.request(Method::GET, stale, Auth::None, None).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    let other = script.replace("app.js", "other.js");
    app.request(Method::GET, &other, Auth::None, None).await.assert_status(StatusCode::NOT_FOUND);
}
