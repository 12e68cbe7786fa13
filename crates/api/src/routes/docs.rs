//! The API reference at `/docs`: Redoc, with the OpenAPI document in the page and its script
//! served by this binary, so the page works without internet (see `crates/api/assets/README.md`).

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse};

const PAGE: &str = include_str!("../../assets/docs.html");
const REDOC: &[u8] = include_bytes!("../../assets/redoc.standalone.js");

/// The page with the document in it. `</` is written `<\/` (the same JSON) so no text in the
/// document can close the script element that holds it.
pub fn page(document_json: &str) -> Html<String> {
    Html(PAGE.replacen("$spec", &document_json.replace("</", "<\\/"), 1))
}

/// `GET /docs/assets/redoc.standalone.js`.
pub async fn redoc() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "public, max-age=86400")], REDOC)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_cannot_close_its_script_element() {
        let html = super::page(r#"{"info": {"title": "</script><script>alert(1)</script>"}}"#).0;
        assert!(!html.contains("</script><script>alert(1)"));
        assert!(html.contains(r#"<\/script><script>alert(1)<\/script>"#));
        assert_eq!(html.matches("$spec").count(), 0);
    }
}
