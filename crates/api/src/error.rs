//! The public error contract: Voucherify's body `{code, key, message, details, request_id}`.
//! The key decides the status; 5xx never leak their cause (it is logged with the request id).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use promo_engine::DefinitionError;
use promo_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

tokio::task_local! {
    /// The current request's id, set by the request-id middleware.
    pub static REQUEST_ID: String;
}

/// Machine keys of errors this service returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKey {
    InvalidPayload,
    InvalidQueryParams,
    InvalidValidationRules,
    Unauthorized,
    Forbidden,
    /// A shopper blocked by the code-guessing lock-out.
    Blocked,
    NotFound,
    MethodNotAllowed,
    DuplicateFound,
    StackingRulesExist,
    ResourceInUse,
    QueryTooLarge,
    UnsupportedMediaType,
    RequestTimeout,
    InternalServerError,
    ServiceUnavailable,
    DuplicatedRedeemables,
    InvalidRedeemables,
    AlreadyRolledBack,
    InvalidRedemptionParent,
    InvalidRedemption,
    IdempotencyKeyReused,
    TooManyRequests,
    DuplicateSourceId,
    VoucherAlreadyPublished,
    TooManyVouchersRequested,
    NoVoucherSuitableForPublication,
    InvalidExportFields,
    /// Why a voucher or tier cannot be applied (the engine's key).
    Redeemable(promo_engine::ErrorKey),
}

impl ErrorKey {
    /// The one place a status is chosen.
    pub const fn status(self) -> StatusCode {
        match self {
            ErrorKey::InvalidPayload
            | ErrorKey::InvalidQueryParams
            | ErrorKey::InvalidValidationRules
            | ErrorKey::ResourceInUse
            | ErrorKey::DuplicatedRedeemables
            | ErrorKey::InvalidRedeemables
            | ErrorKey::AlreadyRolledBack
            | ErrorKey::InvalidRedemptionParent
            | ErrorKey::InvalidRedemption
            | ErrorKey::DuplicateSourceId
            | ErrorKey::VoucherAlreadyPublished
            | ErrorKey::TooManyVouchersRequested
            | ErrorKey::NoVoucherSuitableForPublication
            | ErrorKey::InvalidExportFields => StatusCode::BAD_REQUEST,
            ErrorKey::Redeemable(k) => match k {
                promo_engine::ErrorKey::NotFound => StatusCode::NOT_FOUND,
                _ => StatusCode::BAD_REQUEST,
            },
            ErrorKey::IdempotencyKeyReused => StatusCode::CONFLICT,
            ErrorKey::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorKey::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKey::Forbidden | ErrorKey::Blocked => StatusCode::FORBIDDEN,
            ErrorKey::NotFound => StatusCode::NOT_FOUND,
            ErrorKey::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKey::DuplicateFound | ErrorKey::StackingRulesExist => StatusCode::CONFLICT,
            ErrorKey::QueryTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKey::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKey::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorKey::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKey::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The key on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKey::InvalidPayload => "invalid_payload",
            ErrorKey::InvalidQueryParams => "invalid_query_params",
            ErrorKey::InvalidValidationRules => "invalid_validation_rules",
            ErrorKey::Unauthorized => "unauthorized",
            ErrorKey::Forbidden => "forbidden",
            ErrorKey::Blocked => "blocked",
            ErrorKey::NotFound => "not_found",
            ErrorKey::MethodNotAllowed => "method_not_allowed",
            ErrorKey::DuplicateFound => "duplicate_found",
            ErrorKey::StackingRulesExist => "stacking_rules_exist",
            ErrorKey::ResourceInUse => "resource_in_use",
            ErrorKey::QueryTooLarge => "query_too_large",
            ErrorKey::UnsupportedMediaType => "unsupported_media_type",
            ErrorKey::RequestTimeout => "request_timeout",
            ErrorKey::InternalServerError => "internal_server_error",
            ErrorKey::ServiceUnavailable => "service_unavailable",
            ErrorKey::DuplicatedRedeemables => "duplicated_redeemables",
            ErrorKey::InvalidRedeemables => "invalid_redeemables",
            ErrorKey::AlreadyRolledBack => "already_rolled_back",
            ErrorKey::InvalidRedemptionParent => "invalid_redemption_parent",
            ErrorKey::InvalidRedemption => "invalid_redemption",
            ErrorKey::IdempotencyKeyReused => "idempotency_key_reused",
            ErrorKey::TooManyRequests => "too_many_requests",
            ErrorKey::DuplicateSourceId => "duplicate_source_id",
            ErrorKey::VoucherAlreadyPublished => "voucher_already_published",
            ErrorKey::TooManyVouchersRequested => "too_many_vouchers_requested",
            ErrorKey::NoVoucherSuitableForPublication => "no_voucher_suitable_for_publication",
            ErrorKey::InvalidExportFields => "invalid_export_fields",
            ErrorKey::Redeemable(k) => k.as_str(),
        }
    }

    fn default_message(self) -> &'static str {
        match self {
            ErrorKey::InvalidPayload => "Invalid payload",
            ErrorKey::InvalidQueryParams => "Invalid query params",
            ErrorKey::InvalidValidationRules => "Invalid validation rules",
            ErrorKey::Unauthorized => "Unauthorized",
            ErrorKey::Forbidden => "Forbidden",
            ErrorKey::Blocked => "Blocked after repeated failed attempts",
            ErrorKey::NotFound => "Resource not found",
            ErrorKey::MethodNotAllowed => "Method not allowed",
            ErrorKey::DuplicateFound => "Duplicated resource found",
            ErrorKey::StackingRulesExist => "Stacking rules already exist",
            ErrorKey::ResourceInUse => "Resource in use",
            ErrorKey::QueryTooLarge => "Request too large",
            ErrorKey::UnsupportedMediaType => "Unsupported media type",
            ErrorKey::RequestTimeout => "Request timeout",
            ErrorKey::InternalServerError => "Internal server error",
            ErrorKey::ServiceUnavailable => "Service unavailable",
            ErrorKey::DuplicatedRedeemables => "Duplicated redeemables detected",
            ErrorKey::InvalidRedeemables => "Invalid redeemables",
            ErrorKey::AlreadyRolledBack => "Already rolled back",
            ErrorKey::InvalidRedemptionParent => {
                "You can rollback only a redemption that does not have parent redemption."
            }
            ErrorKey::InvalidRedemption => {
                "You can rollback only a single redemption. Use different endpoint for stacked redemption."
            }
            ErrorKey::IdempotencyKeyReused => "Idempotency key reused with a different request",
            ErrorKey::TooManyRequests => "Too many requests",
            ErrorKey::DuplicateSourceId => "Duplicate source id",
            ErrorKey::VoucherAlreadyPublished => "Voucher already published",
            ErrorKey::TooManyVouchersRequested => "Too many vouchers requested",
            ErrorKey::NoVoucherSuitableForPublication => "Couldn't find any voucher suitable for publication",
            ErrorKey::InvalidExportFields => "Invalid export fields",
            ErrorKey::Redeemable(k) => k.message(),
        }
    }
}

/// The error body on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The HTTP status, as an integer (the JS SDK reads it).
    pub code: u16,
    pub key: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// A custom (validation-rule) message.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub error: Option<serde_json::Value>,
}

/// An error a handler returns.
#[derive(Debug)]
pub struct ApiError {
    key: ErrorKey,
    message: Option<String>,
    details: Option<String>,
    /// Rarely set, so boxed: keeps `Result<_, ApiError>` small.
    extra: Option<Box<ErrorExtra>>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

#[derive(Debug, Default)]
struct ErrorExtra {
    resource: Option<(String, String)>,
    custom_message: Option<String>,
    /// Seconds a client should wait before sending again (429; 503 default to one).
    retry_after: Option<u64>,
    /// Extra response headers (rate-limit state).
    headers: Vec<(header::HeaderName, HeaderValue)>,
    origin_refused: bool,
}

/// Marks a client-side response refused for its origin: no CORS header may admit it.
#[derive(Debug, Clone, Copy)]
pub struct OriginRefused;

impl ApiError {
    pub fn new(key: ErrorKey) -> Self {
        ApiError { key, message: None, details: None, extra: None, source: None }
    }

    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    pub fn resource(mut self, id: impl Into<String>, resource_type: impl Into<String>) -> Self {
        self.extra.get_or_insert_default().resource = Some((id.into(), resource_type.into()));
        self
    }

    /// A custom (validation-rule) message, shown as `error.message`.
    pub fn custom_message(mut self, message: Option<String>) -> Self {
        self.extra.get_or_insert_default().custom_message = message;
        self
    }

    /// Tells the client when to send again (`Retry-After`, in whole seconds, at least one).
    pub fn retry_after(mut self, wait: std::time::Duration) -> Self {
        self.extra.get_or_insert_default().retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
        self
    }

    /// A header the response carries (rate-limit state).
    pub fn header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.extra.get_or_insert_default().headers.push((name, value));
        self
    }

    /// A client-side request from an origin the project does not trust.
    pub fn origin_refused() -> Self {
        let mut e = ApiError::new(ErrorKey::Forbidden).details("This origin is not allowed for client-side requests");
        e.extra.get_or_insert_default().origin_refused = true;
        e
    }

    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// A 404 for an object of this type and id.
    pub fn not_found(resource_type: &str, id: &str) -> Self {
        ApiError {
            details: Some(format!("Cannot find {resource_type} with id {id}")),
            extra: Some(Box::new(ErrorExtra {
                resource: Some((id.to_owned(), resource_type.to_owned())),
                ..ErrorExtra::default()
            })),
            ..ApiError::new(ErrorKey::NotFound)
        }
    }

    /// An unexpected failure: 500, cause logged, never shown.
    pub fn internal(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError { source: Some(Box::new(source)), ..ApiError::new(ErrorKey::InternalServerError) }
    }

    pub fn key(&self) -> ErrorKey {
        self.key
    }

    /// What went wrong, in a sentence (the details, else the message), for reports that list
    /// many errors (an import's rows).
    pub fn details_text(&self) -> String {
        let text = self.details.clone().or_else(|| self.message.clone());
        text.unwrap_or_else(|| self.key.default_message().to_owned())
    }
}

impl ApiError {
    /// The body on the wire (5xx causes are logged here, never shown).
    pub fn into_body(self) -> ErrorBody {
        let status = self.key.status();
        let request_id = REQUEST_ID.try_with(Clone::clone).ok();
        if status.is_server_error() {
            let source = self.source.as_ref().map(|s| format!("{s:#}"));
            let chain = self.source.as_deref().map(|e| error_chain(e));
            let request_id = request_id.as_deref().unwrap_or("");
            if status == StatusCode::SERVICE_UNAVAILABLE {
                tracing::warn!(request_id, error = ?source, chain = ?chain, "request refused, retryable");
            } else {
                tracing::error!(request_id, error = ?source, chain = ?chain, "request failed");
            }
        }
        let extra = self.extra.map(|e| *e).unwrap_or_default();
        let (resource_id, resource_type) = extra.resource.unzip();
        ErrorBody {
            code: status.as_u16(),
            key: self.key.as_str(),
            message: self.message.unwrap_or_else(|| self.key.default_message().to_owned()),
            details: if status == StatusCode::INTERNAL_SERVER_ERROR { None } else { self.details },
            request_id,
            resource_id,
            resource_type,
            error: extra.custom_message.map(|m| serde_json::json!({"message": m})),
        }
    }

    pub fn body_value(self) -> serde_json::Value {
        serde_json::to_value(self.into_body()).unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(mut self) -> Response {
        let status = self.key.status();
        let origin_refused = self.extra.as_ref().is_some_and(|e| e.origin_refused);
        let extra_headers = self.extra.as_mut().map(|e| std::mem::take(&mut e.headers)).unwrap_or_default();
        let retry_after = self.extra.as_ref().and_then(|e| e.retry_after).or(match status {
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => Some(1),
            _ => None,
        });
        let body = self.into_body();
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("X-App-Token"));
        }
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        for (name, value) in extra_headers {
            headers.insert(name, value);
        }
        if origin_refused {
            response.extensions_mut().insert(OriginRefused);
        }
        response
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push(s.to_string());
        cur = s.source();
    }
    out
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::UniqueViolation { constraint, .. } => {
                let what = match constraint.as_str() {
                    "category_project_id_name_key" => "Duplicated category name",
                    "validation_rule_project_id_name_key" => "Duplicated validation rule name",
                    "customer_project_id_source_id_key" => "Duplicated customer source_id",
                    "product_project_id_source_id_key" => "Duplicated product source_id",
                    "sku_project_id_source_id_key" => "Duplicated SKU source_id",
                    "validation_rule_assignment_project_id_related_object_type_related_object_id_rule_id_key" => {
                        "The validation rule is already assigned to this object"
                    }
                    _ => "Duplicated resource found",
                };
                ApiError::new(ErrorKey::DuplicateFound).details(what)
            }
            // retryable; a write whose connection dropped mid-commit may have been applied, so
            // writes are retried with their Idempotency-Key
            StoreError::Busy(source) => {
                crate::outages::note_database_failure(source);
                let mut error =
                    ApiError::new(ErrorKey::ServiceUnavailable).details("The database is unavailable; retry shortly");
                error.source = Some(Box::new(e));
                error
            }
            _ => ApiError::internal(e),
        }
    }
}

impl From<DefinitionError> for ApiError {
    fn from(e: DefinitionError) -> Self {
        ApiError::new(ErrorKey::InvalidPayload).details(format!("Property .{} {}", e.path, e.kind))
    }
}

/// The 400 of a body that breaks the contract; `details` names the property.
pub fn invalid(details: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKey::InvalidPayload).details(details)
}
