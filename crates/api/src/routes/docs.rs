//! The API reference at `/docs`: Redoc, with the OpenAPI document in the page and its script
//! served by this binary, so the page works without internet (see `crates/api/assets/README.md`).

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse};

const PAGE: &str = include_str!("../../assets/docs.html");
const REDOC: &[u8] = include_bytes!("../../assets/redoc.standalone.js");

/// The page with the document in it. `<`, `>` and `&` are written as JSON escapes (the same
/// document) so no text in it can end or disturb the script element that holds it.
pub fn page(document_json: &str) -> Html<String> {
    let escaped = document_json.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026");
    Html(PAGE.replacen("$spec", &escaped, 1))
}

/// `GET /docs/assets/redoc.standalone.js`.
pub async fn redoc() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "public, max-age=86400")], REDOC)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_cannot_close_its_script_element() {
        let doc = r#"{"info": {"title": "</script><!--<script>alert(1)</script> & co"}}"#;
        let html = super::page(doc).0;
        assert!(!html.contains("alert(1)</script>") && !html.contains("<!--<script>"));
        assert_eq!(html.matches("$spec").count(), 0);
        // the escapes are the same JSON
        let start = html.find(r#"{"info""#).unwrap();
        let end = html[start..].find("}}").unwrap() + start + 2;
        let read: serde_json::Value = serde_json::from_str(&html[start..end]).unwrap();
        assert_eq!(read, serde_json::from_str::<serde_json::Value>(doc).unwrap());
    }
}
