//! Extractors whose rejections use the error body of this API.

use crate::error::{ApiError, ErrorKey};
use crate::wire::strip_nulls;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON body. Malformed JSON or a wrong field gives 400 `invalid_payload` naming the path;
/// an oversized body 413; a non-JSON content type 415. An empty body reads as `{}`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + 'static> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let value = read_json(req, state).await?;
        // Every body of this API is an object (a typed body would otherwise also take a
        // positional array, past the checks that look for `metadata` by name).
        if !value.is_object() {
            return Err(ApiError::new(ErrorKey::InvalidPayload).details("The body must be a JSON object"));
        }
        // A `Value` body is ready: deserializing it again would copy the whole tree.
        let value = match (Box::new(value) as Box<dyn std::any::Any>).downcast::<T>() {
            Ok(ready) => return Ok(ApiJson(*ready)),
            Err(other) => *other.downcast::<serde_json::Value>().expect("boxed a Value"),
        };
        serde_path_to_error::deserialize(value).map(ApiJson).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let details =
                if path == "." { format!("Invalid JSON: {inner}") } else { format!("Property .{path}: {inner}") };
            ApiError::new(ErrorKey::InvalidPayload).details(details)
        })
    }
}

/// A JSON body that may also be an array (imports take a list of rows), checked like
/// [`ApiJson`]'s.
pub struct ApiJsonRows(pub serde_json::Value);

impl<S: Send + Sync> FromRequest<S> for ApiJsonRows {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        read_json(req, state).await.map(ApiJsonRows)
    }
}

/// Reads, parses and checks a JSON body (see [`crate::hygiene`]); explicit nulls removed.
async fn read_json<S: Send + Sync>(req: Request, state: &S) -> Result<serde_json::Value, ApiError> {
    if let Some(ct) = req.headers().get(CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        if !ct.starts_with("application/json") && !ct.contains("+json") {
            return Err(ApiError::new(ErrorKey::UnsupportedMediaType).details("Content-Type must be application/json"));
        }
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorKey::QueryTooLarge).details("The request body is larger than 1 MiB")
        } else {
            ApiError::new(ErrorKey::InvalidPayload).details(e.body_text())
        }
    })?;
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &bytes };
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::new(ErrorKey::InvalidPayload).details(format!("Invalid JSON: {e}")))?;
    crate::hygiene::check_body(&value)?;
    // Explicit null means absent (the Python SDK sends null for every unset field).
    Ok(strip_nulls(value))
}

/// A query string; a malformed one gives 400 `invalid_query_params`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| ApiError::new(ErrorKey::InvalidQueryParams).details(e.body_text()))
    }
}

/// Paging of list endpoints: `limit` 1..=100 (default 10), `page` from 1 (default 1).
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 10)]
    pub limit: Option<i64>,
    /// From 1.
    #[param(minimum = 1, maximum = 1000, default = 1)]
    pub page: Option<i64>,
}

impl PageQuery {
    pub fn page(&self) -> Result<promo_store::Page, ApiError> {
        crate::wire::page(self.limit, self.page, 10)
    }
}

/// Paging of lists Voucherify answers whole (a campaign's tiers, a project's webhook
/// endpoints): everything up to 100 unless `limit` is given.
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WholeListQuery {
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 100)]
    pub limit: Option<i64>,
    /// From 1.
    #[param(minimum = 1, maximum = 1000, default = 1)]
    pub page: Option<i64>,
}

impl WholeListQuery {
    pub fn page(&self) -> Result<promo_store::Page, ApiError> {
        crate::wire::page(self.limit, self.page, 100)
    }
}
