//! Management API: projects (tenants) with their keys, and per-project stacking rules.

use crate::error::invalid;
use crate::error::{ApiError, ErrorKey};
use crate::ids;
use crate::state::AppState;
use crate::tenant::{app_ids, new_token};
use crate::types::common::ListOut;
use crate::types::management::{KeyOut, ProjectIn, ProjectOut, RateLimitsIo, StackingRulesOut};
use crate::wire::timestamp;
use chrono::{DateTime, Utc};
use promo_engine::StackingRules;
use promo_store::projects::{KeyKind, NewKey, ProjectRow, ProjectSettings, RateLimits};
use serde::{Deserialize, Serialize};

/// The API version every project answers with (Voucherify's only one).
const API_VERSION: &str = "v2018-08-01";
/// The webhook payload version this service sends.
const WEBHOOK_VERSION: &str = "v2024-01-01";

impl From<RateLimits> for RateLimitsIo {
    fn from(r: RateLimits) -> Self {
        RateLimitsIo {
            server_per_second: r.server_per_second,
            client_ip_per_second: r.client_ip_per_second,
            unknown_codes_per_minute: r.unknown_codes_per_minute,
        }
    }
}

impl From<ProjectRow> for ProjectOut {
    fn from(p: ProjectRow) -> Self {
        ProjectOut {
            id: ids::wire(ids::PROJECT, p.project_id.uuid()),
            name: p.name,
            description: p.description,
            timezone: p.timezone,
            currency: p.currency,
            case_sensitive_codes: p.case_sensitive_codes,
            client_trusted_domains: p.client_trusted_domains,
            client_redeem_enabled: p.client_redeem_enabled,
            rate_limits: p.rate_limits.into(),
            customer_identity: p.customer_identity,
            lockout: p.lockout.and_then(|l| serde_json::from_value(l.0).ok()),
            api_version: API_VERSION,
            webhook_version: WEBHOOK_VERSION,
            is_sandbox: false,
            created_at: timestamp(p.created_at),
            server_side_key: None,
            client_side_key: None,
        }
    }
}

impl ProjectIn {
    /// Merges into `base` (defaults on create) and checks every field.
    fn into_settings(self, base: ProjectSettings) -> Result<ProjectSettings, ApiError> {
        // the one version of each this service speaks: sent by the SDKs, never another
        for (field, given, spoken) in [
            ("api_version", &self.api_version, API_VERSION),
            ("webhook_version", &self.webhook_version, WEBHOOK_VERSION),
        ] {
            if given.as_deref().is_some_and(|v| v != spoken) {
                return Err(invalid(format!("Property .{field} must be {spoken} (the only version served)")));
            }
        }
        let s = ProjectSettings {
            name: self.name.map(|n| n.trim().to_owned()).unwrap_or(base.name),
            description: self.description.or(base.description),
            timezone: self.timezone.unwrap_or(base.timezone),
            currency: self.currency.unwrap_or(base.currency),
            case_sensitive_codes: self.case_sensitive_codes.unwrap_or(base.case_sensitive_codes),
            client_trusted_domains: self.client_trusted_domains.unwrap_or(base.client_trusted_domains),
            client_redeem_enabled: self.client_redeem_enabled.unwrap_or(base.client_redeem_enabled),
            rate_limits: match self.rate_limits {
                Some(r) => RateLimits {
                    server_per_second: r.server_per_second,
                    client_ip_per_second: r.client_ip_per_second,
                    unknown_codes_per_minute: r.unknown_codes_per_minute,
                },
                None => base.rate_limits,
            },
            lockout: match self.lockout {
                None => base.lockout,
                Some(l) if l.failures == 0 => None,
                Some(l) => {
                    let ok = (1..=1000).contains(&l.failures)
                        && (1..=1440).contains(&l.window_minutes)
                        && l.block_minutes.is_none_or(|b| (1..=525_600).contains(&b));
                    if !ok {
                        return Err(invalid(
                            "Property .lockout: failures 0..=1000, window_minutes 1..=1440, block_minutes 1..=525600",
                        ));
                    }
                    Some(serde_json::to_value(l).map_err(ApiError::internal)?)
                }
            },
            customer_identity: match self.customer_identity {
                Some(rule) => promo_engine::identity::IdentityRule::parse(&rule)
                    .ok_or_else(|| {
                        invalid("Property .customer_identity must be customer, email, phone or metadata.<key>")
                    })?
                    .as_string(),
                None => base.customer_identity,
            },
        };
        let r = s.rate_limits;
        for (name, v) in [
            ("server_per_second", r.server_per_second),
            ("client_ip_per_second", r.client_ip_per_second),
            ("unknown_codes_per_minute", r.unknown_codes_per_minute),
        ] {
            if v.is_some_and(|v| !(1..=1_000_000).contains(&v)) {
                return Err(invalid(format!("Property .rate_limits.{name} must be within 1..=1000000")));
            }
        }
        if s.name.is_empty() || s.name.chars().count() > 200 {
            return Err(invalid("Property .name must be a non-empty string of at most 200 characters"));
        }
        if s.timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(invalid(format!("Property .timezone `{}` is not an IANA time zone", s.timezone)));
        }
        if s.currency.len() != 3 || !s.currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(invalid(format!("Property .currency `{}` is not an ISO 4217 code", s.currency)));
        }
        if let Some(d) = s.client_trusted_domains.iter().find(|d| !crate::origins::trusted_domain_valid(d)) {
            return Err(invalid(format!(
                "Property .client_trusted_domains: `{d}` is not `*`, a host, an http(s) origin or `*.` and a domain of two labels or more"
            )));
        }
        Ok(s)
    }
}

fn project_id(raw: &str) -> Result<promo_store::ProjectId, ApiError> {
    ids::parse(ids::PROJECT, "project", raw).map(promo_store::ProjectId)
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredRules {
    #[serde(flatten)]
    rules: StackingRules,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
}

fn stored_rules(p: &ProjectRow) -> Result<Option<(uuid::Uuid, StoredRules)>, ApiError> {
    match (&p.stacking_rules, p.stacking_rules_id) {
        (Some(doc), Some(id)) => {
            let stored: StoredRules = serde_json::from_value(doc.0.clone()).map_err(ApiError::internal)?;
            Ok(Some((id, stored)))
        }
        _ => Ok(None),
    }
}

fn rules_out(id: uuid::Uuid, s: StoredRules) -> StackingRulesOut {
    StackingRulesOut {
        id: ids::wire(ids::STACKING_RULES, id),
        rules: s.rules,
        created_at: s.created_at.map(timestamp),
        updated_at: s.updated_at.map(timestamp),
    }
}

/// Applies a body onto rules: the body's fields win; then the rules are checked.
fn merge_rules(base: &StackingRules, body: serde_json::Value) -> Result<StackingRules, ApiError> {
    let mut merged = serde_json::to_value(base).map_err(ApiError::internal)?;
    if let (Some(m), serde_json::Value::Object(b)) = (merged.as_object_mut(), body) {
        m.extend(b);
    }
    let rules: StackingRules = serde_path_to_error::deserialize(merged)
        .map_err(|e| invalid(format!("Property .{}: {}", e.path(), e.inner())))?;
    rules.validate().map_err(|e| invalid(format!("Property .{} {}", e.path, e.kind)))?;
    Ok(rules)
}

async fn project_for_rules(app: &AppState, raw: &str) -> Result<ProjectRow, ApiError> {
    let id = project_id(raw)?;
    promo_store::projects::get(&app.db, id).await?.ok_or_else(|| ApiError::not_found("project", raw))
}

async fn existing_rules(
    app: &AppState,
    raw: &str,
    rules_raw: &str,
) -> Result<(ProjectRow, uuid::Uuid, StoredRules), ApiError> {
    let project = project_for_rules(app, raw).await?;
    let wanted = ids::parse(ids::STACKING_RULES, "stacking_rules", rules_raw)?;
    match stored_rules(&project)? {
        Some((id, s)) if id == wanted => Ok((project, id, s)),
        _ => Err(ApiError::not_found("stacking_rules", rules_raw)),
    }
}

/// Create a project.
///
/// Returns its server-side and client-side keys; the tokens are shown only here.
pub(crate) async fn create_project(app: &AppState, body: ProjectIn) -> Result<ProjectOut, ApiError> {
    if body.name.is_none() {
        return Err(invalid("Property .name is required"));
    }
    let base = ProjectSettings {
        name: String::new(),
        description: None,
        timezone: "UTC".into(),
        currency: "USD".into(),
        case_sensitive_codes: false,
        client_trusted_domains: Vec::new(),
        client_redeem_enabled: false,
        rate_limits: RateLimits::default(),
        customer_identity: "customer".into(),
        lockout: None,
    };
    let settings = body.into_settings(base)?;
    let id = promo_store::ProjectId(promo_store::new_id());
    let (server_app_id, client_app_id) = app_ids(id);
    let (server_token, client_token) = (new_token(), new_token());
    let keys = [
        NewKey {
            app_id: server_app_id.clone(),
            kind: KeyKind::Server,
            token_hash: promo_store::hash_token(&server_token),
        },
        NewKey {
            app_id: client_app_id.clone(),
            kind: KeyKind::Client,
            token_hash: promo_store::hash_token(&client_token),
        },
    ];
    let mut tx = promo_store::begin(&app.db).await?;
    let row = promo_store::projects::insert(&mut tx, id, &settings, &keys).await?;
    promo_store::commit(tx).await?;
    let mut out = ProjectOut::from(row);
    out.server_side_key = Some(KeyOut { app_id: server_app_id, app_token: server_token });
    out.client_side_key = Some(KeyOut { app_id: client_app_id, app_token: client_token });
    Ok(out)
}

/// Get a project.
pub(crate) async fn get_project(app: &AppState, raw: &str) -> Result<ProjectOut, ApiError> {
    let id = project_id(raw)?;
    let row = promo_store::projects::get(&app.db, id).await?.ok_or_else(|| ApiError::not_found("project", raw))?;
    Ok(row.into())
}

/// List projects, newest first.
pub(crate) async fn list_projects(app: &AppState, page: promo_store::Page) -> Result<ListOut<ProjectOut>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let (rows, total) = promo_store::projects::list(&mut conn, page).await?;
    Ok(ListOut::new(rows.into_iter().map(ProjectOut::from).collect(), total))
}

/// Update a project's settings.
pub(crate) async fn update_project(app: &AppState, raw: &str, body: ProjectIn) -> Result<ProjectOut, ApiError> {
    let id = project_id(raw)?;
    let current = promo_store::projects::get(&app.db, id).await?.ok_or_else(|| ApiError::not_found("project", raw))?;
    let base = ProjectSettings {
        name: current.name,
        description: current.description,
        timezone: current.timezone,
        currency: current.currency,
        case_sensitive_codes: current.case_sensitive_codes,
        client_trusted_domains: current.client_trusted_domains,
        client_redeem_enabled: current.client_redeem_enabled,
        rate_limits: current.rate_limits,
        customer_identity: current.customer_identity,
        lockout: current.lockout.map(|l| l.0),
    };
    let settings = body.into_settings(base)?;
    let row = promo_store::projects::update(&app.db, id, &settings)
        .await?
        .ok_or_else(|| ApiError::not_found("project", raw))?;
    app.auth_cache.forget(id);
    Ok(row.into())
}

/// Delete a project and everything in it.
pub(crate) async fn delete_project(app: &AppState, raw: &str) -> Result<(), ApiError> {
    let id = project_id(raw)?;
    let deleted = promo_store::projects::delete(&app.db, id).await?;
    app.auth_cache.forget(id);
    if deleted { Ok(()) } else { Err(ApiError::not_found("project", raw)) }
}

/// Create the project's stacking rules (one object per project).
pub(crate) async fn create_stacking_rules(
    app: &AppState,
    raw: &str,
    body: serde_json::Value,
) -> Result<StackingRulesOut, ApiError> {
    let project = project_for_rules(app, raw).await?;
    if project.stacking_rules_id.is_some() {
        return Err(ApiError::new(ErrorKey::StackingRulesExist).details("The project already has stacking rules"));
    }
    let rules = merge_rules(&StackingRules::default(), body)?;
    let now = Utc::now();
    let stored = StoredRules { rules, created_at: Some(now), updated_at: None };
    let id = promo_store::new_id();
    let doc = serde_json::to_value(&stored).map_err(ApiError::internal)?;
    promo_store::projects::set_stacking_rules(&app.db, project.project_id, Some((id, &doc))).await?;
    app.auth_cache.forget(project.project_id);
    Ok(rules_out(id, stored))
}

/// List the project's stacking rules (at most one).
pub(crate) async fn list_stacking_rules(app: &AppState, raw: &str) -> Result<ListOut<StackingRulesOut>, ApiError> {
    let project = project_for_rules(app, raw).await?;
    let data: Vec<StackingRulesOut> = stored_rules(&project)?.into_iter().map(|(id, s)| rules_out(id, s)).collect();
    let total = data.len() as i64;
    Ok(ListOut::new(data, total))
}

/// Get the project's stacking rules.
pub(crate) async fn get_stacking_rules(
    app: &AppState,
    (raw, rules_raw): (&str, &str),
) -> Result<StackingRulesOut, ApiError> {
    let (_, id, stored) = existing_rules(app, raw, rules_raw).await?;
    Ok(rules_out(id, stored))
}

/// Update the project's stacking rules (fields given replace their values).
pub(crate) async fn update_stacking_rules(
    app: &AppState,
    (raw, rules_raw): (&str, &str),
    body: serde_json::Value,
) -> Result<StackingRulesOut, ApiError> {
    let (project, id, stored) = existing_rules(app, raw, rules_raw).await?;
    let rules = merge_rules(&stored.rules, body)?;
    let updated = StoredRules { rules, created_at: stored.created_at, updated_at: Some(Utc::now()) };
    let doc = serde_json::to_value(&updated).map_err(ApiError::internal)?;
    promo_store::projects::set_stacking_rules(&app.db, project.project_id, Some((id, &doc))).await?;
    app.auth_cache.forget(project.project_id);
    Ok(rules_out(id, updated))
}

/// Delete the project's stacking rules (the defaults apply again).
pub(crate) async fn delete_stacking_rules(app: &AppState, (raw, rules_raw): (&str, &str)) -> Result<(), ApiError> {
    let (project, _, _) = existing_rules(app, raw, rules_raw).await?;
    promo_store::projects::set_stacking_rules(&app.db, project.project_id, None).await?;
    app.auth_cache.forget(project.project_id);
    Ok(())
}
