//! The HTTP service of the promotion engine: Voucherify's wire format over the pure engine and
//! the Postgres store. Handlers are thin; the project always comes from the credential.

pub mod audit;
pub mod auth;
pub mod config;
pub mod edge;
pub mod error;
pub mod extract;
pub mod hygiene;
pub mod ids;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod origins;
pub mod outages;
pub mod postgres_setup;
pub mod routes;
pub mod services;
pub mod state;
pub mod telemetry;
pub mod tenant;
pub mod types;
pub mod wire;

use crate::error::{ApiError, ErrorKey};
use crate::routes::{
    audiences, campaigns, categories, customers, health, products, projects, stacks, tiers, validation_rules, vouchers,
};
use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware;
use std::future::Future;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1 << 20;

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
        .routes(routes!(projects::create_project, projects::list_projects))
        .routes(routes!(projects::get_project, projects::update_project, projects::delete_project))
        .routes(routes!(projects::create_stacking_rules, projects::list_stacking_rules))
        .routes(routes!(projects::get_stacking_rules, projects::update_stacking_rules, projects::delete_stacking_rules))
        .routes(routes!(categories::create_category, categories::list_categories))
        .routes(routes!(categories::get_category, categories::update_category, categories::delete_category))
        .routes(routes!(validation_rules::create_validation_rule, validation_rules::list_validation_rules))
        .routes(routes!(
            validation_rules::get_validation_rule,
            validation_rules::update_validation_rule,
            validation_rules::delete_validation_rule
        ))
        .routes(routes!(validation_rules::create_assignment, validation_rules::list_rule_assignments))
        .routes(routes!(validation_rules::delete_assignment))
        .routes(routes!(validation_rules::list_assignments))
        .routes(routes!(customers::create_customer, customers::list_customers))
        .routes(routes!(customers::get_customer, customers::update_customer, customers::delete_customer))
        .routes(routes!(products::create_product, products::list_products))
        .routes(routes!(products::get_product, products::update_product, products::delete_product))
        .routes(routes!(products::create_sku, products::list_skus))
        .routes(routes!(products::update_sku, products::delete_sku))
        .routes(routes!(products::get_sku))
        .routes(routes!(products::set_inventory))
        .routes(routes!(campaigns::create_campaign, campaigns::list_campaigns))
        .routes(routes!(campaigns::get_campaign, campaigns::update_campaign, campaigns::delete_campaign))
        .routes(routes!(campaigns::campaign_summary))
        .routes(routes!(campaigns::enable_campaign))
        .routes(routes!(campaigns::disable_campaign))
        .routes(routes!(vouchers::create_voucher, vouchers::list_vouchers))
        .routes(routes!(
            vouchers::create_voucher_with_code,
            vouchers::get_voucher,
            vouchers::update_voucher,
            vouchers::delete_voucher
        ))
        .routes(routes!(vouchers::enable_voucher))
        .routes(routes!(vouchers::disable_voucher))
        .routes(routes!(tiers::create_tier, tiers::list_campaign_tiers))
        .routes(routes!(tiers::list_tiers))
        .routes(routes!(tiers::list_tiers_client_side))
        .routes(routes!(tiers::get_tier, tiers::update_tier, tiers::delete_tier))
        .routes(routes!(tiers::enable_tier))
        .routes(routes!(tiers::disable_tier))
        .routes(routes!(stacks::create_stack, stacks::list_campaign_stacks))
        .routes(routes!(stacks::get_stack, stacks::update_stack, stacks::delete_stack))
        .routes(routes!(stacks::list_stacks))
        .routes(routes!(audiences::create_segment, audiences::list_segments))
        .routes(routes!(audiences::get_segment, audiences::delete_segment))
        .routes(routes!(audiences::create_collection, audiences::list_collections))
        .routes(routes!(audiences::get_collection, audiences::delete_collection))
        .routes(routes!(audiences::create_order, audiences::list_orders))
        .routes(routes!(audiences::get_order, audiences::update_order))
        .routes(routes!(routes::checkout::validate))
        .routes(routes!(routes::checkout::validate_client_side))
        .routes(routes!(routes::checkout::qualify))
        .routes(routes!(routes::checkout::qualify_client_side))
        .routes(routes!(routes::checkout::redeem, routes::redemptions::list_redemptions))
        .routes(routes!(routes::checkout::redeem_client_side))
        .routes(routes!(routes::legacy_client::validate))
        .routes(routes!(routes::legacy_client::redeem))
        .routes(routes!(routes::redemptions::get_redemption))
        .routes(routes!(routes::checkout::rollback))
        .routes(routes!(routes::checkout::rollback_stacked))
        .routes(routes!(routes::redemptions::voucher_redemptions))
        .routes(routes!(routes::redemptions::voucher_redemptions_listed))
        .routes(routes!(routes::publications::voucher_publications))
        .routes(routes!(routes::redemptions::release_session))
        .routes(routes!(routes::publications::create_publication, routes::publications::list_publications))
        .routes(routes!(routes::publications::customer_redeemables))
        .routes(routes!(routes::codes::add_vouchers))
        .routes(routes!(routes::codes::add_voucher_with_code))
        .routes(routes!(routes::codes::get_async_action))
        .routes(routes!(routes::codes::list_async_actions))
        .routes(routes!(routes::analytics::series))
        .routes(routes!(routes::analytics::compare))
        .routes(routes!(routes::audit::list_audit_log))
        .routes(routes!(routes::blocks::list_blocks))
        .routes(routes!(routes::blocks::get_block, routes::blocks::lift_block))
        .routes(routes!(routes::events::create_event))
        .routes(routes!(routes::events::create_event_client_side))
        .routes(routes!(routes::events::customer_activity))
        .routes(routes!(routes::exports::create_export, routes::exports::list_exports))
        .routes(routes!(routes::exports::get_export, routes::exports::delete_export))
        .routes(routes!(routes::exports::export_orders))
        .routes(routes!(routes::webhooks::create_webhook, routes::webhooks::list_webhooks))
        .routes(routes!(
            routes::webhooks::get_webhook,
            routes::webhooks::update_webhook,
            routes::webhooks::delete_webhook
        ))
        .routes(routes!(routes::webhooks::list_webhook_events))
        .routes(routes!(routes::webhooks::list_webhook_deliveries))
        .merge(imports_router())
}

/// Imports take bodies up to 64 MiB (100,000 rows); everything else 1 MiB.
fn imports_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::codes::import_campaign))
        .routes(routes!(routes::codes::import_campaign_csv))
        .routes(routes!(routes::codes::import_vouchers))
        .routes(routes!(routes::codes::import_vouchers_csv))
        .layer(DefaultBodyLimit::max(routes::codes::MAX_IMPORT_BYTES))
}

/// The OpenAPI document the server serves at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api_router().split_for_parts().1;
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    document_retryable_errors(&mut doc);
    openapi::require_key_ids(&mut doc);
    doc
}

/// Any operation can be refused for a rate limit (429) or while the database is unavailable
/// (503); both carry the error body and `Retry-After`.
fn document_retryable_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
            .build()
    };
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for op in operations.into_iter().flatten() {
            let responses = &mut op.responses.responses;
            responses.entry("429".into()).or_insert_with(|| error("Rate limited; see Retry-After").into());
            responses
                .entry("503".into())
                .or_insert_with(|| error("The database is unavailable; retry after Retry-After").into());
        }
    }
}

/// The whole application as a router (what tests drive).
pub fn router(state: AppState) -> Router {
    Router::new()
        .fallback_service(audit::Audited::new(routes(state.clone()), state))
        .layer(TraceLayer::new_for_http().make_span_with(request_span as fn(&Request) -> tracing::Span))
}

/// The request's log span; the edge fills its request and project ids.
fn request_span(req: &Request) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = tracing::field::Empty,
        project_id = tracing::field::Empty,
    )
}

/// Every route with the edge around it; the audit layer wraps this from outside, because it
/// reads objects back through it.
fn routes(state: AppState) -> Router {
    let (router, _) = api_router().split_for_parts();
    let edge = edge::EdgeState {
        metrics: state.metrics.clone(),
        outages: state.outages.clone(),
        timeout: state.config.request_timeout,
    };
    let json = serde_json::to_string_pretty(&openapi()).unwrap_or_default();
    let docs_page = routes::docs::page(&json);
    let dashboard_page = routes::dashboard::page();
    router
        .route(
            "/openapi.json",
            axum::routing::get(move || async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], json) }),
        )
        .route("/metrics", axum::routing::get(health::metrics))
        .route("/docs", axum::routing::get(move || async move { docs_page }))
        .route("/docs/assets/redoc.standalone.js", axum::routing::get(routes::docs::redoc))
        .route("/dashboard", axum::routing::get(move || async move { routes::dashboard::serve_page(dashboard_page) }))
        .route("/dashboard/assets/{version}/{file}", axum::routing::get(routes::dashboard::asset))
        .fallback(|| async { ApiError::new(ErrorKey::NotFound).details("No such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(ErrorKey::MethodNotAllowed).details("This method is not supported by this endpoint")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(edge, edge::around))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then drains in-flight requests (at most 30 s).
///
/// Each connection is bounded: at most `transport.max_connections` are open (more are closed at
/// once), a connection that does not send a whole request head within the header-read timeout
/// — idle keep-alive connections included — is closed, and its read buffer is capped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let transport = state.config.transport;
    let metrics = state.metrics.clone();
    // the audit layer around the routes, without a router in front (one route lookup per request)
    let app = tower::Layer::layer(
        &TraceLayer::new_for_http().make_span_with(request_span as fn(&Request) -> tracing::Span),
        audit::Audited::new(routes(state.clone()), state),
    );
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(transport.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(transport.header_read_timeout)
        .max_buf_size(transport.max_header_bytes.max(8192))
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // out of file descriptors and the like: wait instead of spinning
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // over the cap: closing at once costs nothing; queueing would hold the socket anyway
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            tower::ServiceExt::oneshot(app.clone(), req.map(axum::body::Body::new))
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        let metrics = metrics.clone();
        metrics.connection_opened();
        tokio::spawn(async move {
            let _ = connection.await;
            metrics.connection_closed();
            drop(slot);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), graceful.shutdown()).await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// The management credential in force: from the environment, else stored, else generated now
/// (the token is printed once and only its hash is kept).
pub async fn management_credential(
    config: &config::Config,
    db: &promo_store::PgPool,
) -> Result<state::ManagementCredential, promo_store::StoreError> {
    if let Some((id, token)) = &config.management {
        return Ok(state::ManagementCredential { id: id.clone(), token_hash: promo_store::hash_token(token) });
    }
    if let Some((id, token_hash)) = promo_store::management::get(db).await? {
        return Ok(state::ManagementCredential { id, token_hash });
    }
    let id = format!("mgmt_{}", uuid::Uuid::new_v4().simple());
    let token = auth::new_token();
    if promo_store::management::insert_if_none(db, &id, &promo_store::hash_token(&token)).await? {
        println!(
            "Generated management credentials (shown once; set PROMO_MANAGEMENT_ID / PROMO_MANAGEMENT_TOKEN to choose your own):"
        );
        println!("  X-Management-Id: {id}");
        println!("  X-Management-Token: {token}");
        return Ok(state::ManagementCredential { id, token_hash: promo_store::hash_token(&token) });
    }
    let (id, token_hash) = promo_store::management::get(db).await?.unwrap_or_default();
    Ok(state::ManagementCredential { id, token_hash })
}
