//! The OpenAPI document: built from the handlers' `#[utoipa::path]` annotations.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Promotion Engine API", description = "Voucherify-compatible promotion engine."),
    modifiers(&SecurityAddon),
    components(schemas(crate::error::ErrorBody)),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "management", description = "Projects, keys and stacking rules (X-Management-Id / X-Management-Token)"),
        (name = "categories", description = "Categories"),
        (name = "validation rules", description = "Validation rules and assignments"),
        (name = "customers", description = "Customers"),
        (name = "products", description = "Products and SKUs"),
        (name = "campaigns", description = "Campaigns (DISCOUNT_COUPONS, PROMOTION)"),
        (name = "vouchers", description = "Vouchers"),
        (name = "promotions", description = "Promotion tiers"),
        (name = "segments", description = "Customer segments"),
        (name = "product collections", description = "Product collections"),
        (name = "orders", description = "Orders"),
        (name = "audit", description = "The audit log of admin writes"),
        (name = "blocks", description = "Shoppers blocked by the code-guessing lock-out"),
    )
)]
pub struct ApiDoc;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        // Each scheme names one header; the token header goes with it.
        components.add_security_scheme(
            "app",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-App-Token",
                "Server-side secret key; send X-App-Id too",
            ))),
        );
        components.add_security_scheme(
            "client",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Client-Token",
                "Client-side key; send X-Client-Application-Id and Origin too",
            ))),
        );
        components.add_security_scheme(
            "management",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Management-Token",
                "Management secret; send X-Management-Id too",
            ))),
        );
        // the id header of each key, required together with its token (a generator that
        // applies security schemes then sends both)
        for (scheme, header, what) in [
            ("app_id", "X-App-Id", "Server-side application id (the project id)"),
            ("client_id", "X-Client-Application-Id", "Client-side application id"),
            ("management_id", "X-Management-Id", "Management credential id"),
        ] {
            components.add_security_scheme(
                scheme,
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(header, what))),
            );
        }
    }
}

/// Requires each key's id header with its token (the handlers' annotations name the token
/// scheme only): run on the whole document, once the routes' paths are in it.
pub fn require_key_ids(openapi: &mut utoipa::openapi::OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ];
        for op in operations.into_iter().flatten() {
            for requirement in op.security.iter_mut().flatten() {
                let names = serde_json::to_value(&*requirement).unwrap_or_default();
                for (token, id) in [("app", "app_id"), ("client", "client_id"), ("management", "management_id")] {
                    if names.get(token).is_some() {
                        *requirement = std::mem::take(requirement).add(id, Vec::<String>::new());
                    }
                }
            }
        }
    }
}
