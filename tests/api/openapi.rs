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
async fn the_docs_page_is_served() {
    let app = TestApp::new().await;
    let r = app.request(Method::GET, "/docs", Auth::None, None).await;
    r.assert_status(StatusCode::OK);
    assert!(
        String::from_utf8_lossy(&r.body).contains("/openapi.json")
            || String::from_utf8_lossy(&r.body).contains("openapi")
    );
}
