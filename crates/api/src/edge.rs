//! What every request meets before and after its handler: NUL characters refused in paths and
//! query strings, the request timeout, Voucherify's JSON error body on every error status
//! (including those that routing and extractors produce as plain text), and CORS for the
//! client-side API.

use crate::error::{ApiError, ErrorKey, OriginRefused, REQUEST_ID};
use crate::outages::OUTAGES;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Error bodies produced outside our handlers (routing, extractor rejections) are short texts.
const MAX_PLAIN_ERROR_BYTES: usize = 4096;

/// What the edge needs per request: cloned for each one, so only shared handles.
#[derive(Clone)]
pub struct EdgeState {
    pub metrics: Arc<crate::metrics::Metrics>,
    pub outages: Arc<crate::outages::Outages>,
    pub timeout: Duration,
}

/// The one middleware around every route (one layer: each layer costs a service clone and a
/// future per request): the request id, CORS for the client API, the error contract, metrics and
/// the outage clock.
pub async fn around(State(edge): State<EdgeState>, req: Request, next: Next) -> Response {
    let id = format!("v-{}", &uuid::Uuid::new_v4().simple().to_string()[..18]);
    tracing::Span::current().record("request_id", id.as_str());
    let mut response = REQUEST_ID.scope(id.clone(), client_cors(edge, req, next)).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}

async fn measured(edge: EdgeState, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let counted = req.extensions().get::<crate::audit::Snapshot>().is_none();
    let started = Instant::now();
    let response = OUTAGES.scope(edge.outages.clone(), contract(edge.timeout, req, next)).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    // a label per known method only: any other string would add series at a client's will
    let method = match method {
        Method::GET | Method::POST | Method::PUT | Method::DELETE | Method::PATCH | Method::OPTIONS | Method::HEAD => {
            method.as_str()
        }
        _ => "OTHER",
    };
    if counted {
        edge.metrics.request(route, method, response.status().as_str(), started);
    }
    response
}

/// The error contract at the edge.
async fn contract(timeout: Duration, req: Request, next: Next) -> Response {
    let (req, body_read) = track_body(req);
    let mut response = contract_inner(timeout, req, next).await;
    // A response sent before its request body was read (a refusal by an extractor) leaves the
    // body's bytes on the connection: it cannot carry another request, so say it will close
    // rather than let the client's next request on it fail.
    if body_read.is_some_and(|read| !read.load(Ordering::Relaxed)) {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Wraps a request that has a body so that reading it to its end is seen.
fn track_body(req: Request) -> (Request, Option<Arc<AtomicBool>>) {
    let (parts, body) = req.into_parts();
    if hyper::body::Body::is_end_stream(&body) {
        return (Request::from_parts(parts, body), None);
    }
    let read = Arc::new(AtomicBool::new(false));
    let body = Body::new(ReadToEnd { inner: body, read: read.clone() });
    (Request::from_parts(parts, body), Some(read))
}

/// A body that notes when it has been read to its end.
struct ReadToEnd {
    inner: Body,
    read: Arc<AtomicBool>,
}

impl hyper::body::Body for ReadToEnd {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, std::task::Poll::Ready(None)) || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

async fn contract_inner(timeout: Duration, req: Request, next: Next) -> Response {
    let uri = req.uri();
    // `%00` has no letters: no case to fold
    let nul = |s: &str| s.contains('\0') || s.contains("%00");
    if nul(uri.path()) {
        return ApiError::new(ErrorKey::InvalidPayload)
            .details("The path must not contain NUL characters")
            .into_response();
    }
    if uri.query().is_some_and(nul) {
        return ApiError::new(ErrorKey::InvalidQueryParams)
            .details("The query string must not contain NUL characters")
            .into_response();
    }
    let response = match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            return ApiError::new(ErrorKey::RequestTimeout)
                .details(format!("The request took longer than {} s", timeout.as_secs()))
                .into_response();
        }
    };
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(response.headers()) {
        return response;
    }
    as_json_error(response).await
}

fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.contains("json"))
}

/// Rewrites a plain error response as the JSON error body, keeping its status and headers.
async fn as_json_error(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_PLAIN_ERROR_BYTES)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let key = match parts.status {
        StatusCode::BAD_REQUEST => ErrorKey::InvalidPayload,
        StatusCode::UNAUTHORIZED => ErrorKey::Unauthorized,
        StatusCode::FORBIDDEN => ErrorKey::Forbidden,
        StatusCode::NOT_FOUND => ErrorKey::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorKey::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => ErrorKey::RequestTimeout,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorKey::QueryTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorKey::UnsupportedMediaType,
        StatusCode::TOO_MANY_REQUESTS => ErrorKey::TooManyRequests,
        StatusCode::SERVICE_UNAVAILABLE => ErrorKey::ServiceUnavailable,
        s if s.is_client_error() => ErrorKey::InvalidPayload,
        _ => ErrorKey::InternalServerError,
    };
    let mut error = ApiError::new(key);
    if !text.is_empty() {
        error = error.details(text);
    }
    let mut out = error.into_response();
    *out.status_mut() = parts.status;
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out
}

/// Headers a storefront's browser may send to the client-side API.
const CLIENT_HEADERS: &str = "accept, content-type, x-client-application-id, x-client-token, x-voucherify-channel, \
     x-voucherify-session, idempotency-key, x-requested-with";
const EXPOSED_HEADERS: &str =
    "x-request-id, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset, idempotent-replayed";

/// CORS on `/client/v1/*`. A preflight carries no credentials, so it is answered for any origin;
/// the request itself is checked against the project's `client_trusted_domains` (refused with
/// 403 and without any CORS header, so the browser does not let the page read it). The origin is
/// echoed, never `*`, with `Access-Control-Allow-Credentials` (Voucherify's browser library
/// sends credentials).
async fn client_cors(edge: EdgeState, req: Request, next: Next) -> Response {
    let origin = match req.headers().get(header::ORIGIN) {
        Some(o) if req.uri().path().starts_with("/client/") => o.clone(),
        _ => return measured(edge, req, next).await,
    };
    let preflight =
        req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NO_CONTENT;
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, PUT, DELETE, OPTIONS"));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(CLIENT_HEADERS));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        r
    } else {
        measured(edge, req, next).await
    };
    if response.extensions().get::<OriginRefused>().is_none() {
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED_HEADERS));
    }
    response.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
    response
}

/// The client's IP: the last address of the configured proxy header (the one the trusted proxy
/// itself added; addresses before it are the client's to write), else the peer.
pub fn client_ip(parts: &axum::http::request::Parts, header_name: Option<&str>) -> std::net::IpAddr {
    if let Some(name) = header_name
        && let Some(ip) = parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return ip;
    }
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(std::net::IpAddr::from([127, 0, 0, 1]), |c| c.0.ip())
}
