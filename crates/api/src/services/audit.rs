//! Reading the audit log of admin writes (the audit layer in `crate::audit` writes it).

use crate::error::ApiError;
use crate::services::events::{query_error, time};
use crate::state::AppState;
use crate::types::audit::{AuditCredential, AuditEntryOut, AuditLogList, AuditLogQuery, AuditResource};
use crate::wire::timestamp;
use promo_store::ProjectId;
use promo_store::audit::{self as store, EntryRow};

const AUDIT_ENTRY: &str = "audit_";

fn entry(r: EntryRow) -> AuditEntryOut {
    AuditEntryOut {
        id: crate::ids::wire(AUDIT_ENTRY, r.entry_id),
        object: "audit_entry",
        created_at: timestamp(r.created_at),
        request_id: r.request_id,
        credential: AuditCredential { kind: r.credential_type, id: r.credential_id },
        action: r.action,
        method: r.method,
        path: r.path,
        resource: AuditResource { kind: r.object_type, id: r.object_id, key: r.object_key },
        changed_fields: r.changed_fields,
        before: r.before.map(|j| j.0),
        after: r.after.map(|j| j.0),
    }
}

/// A filter value from a list of known ones, or 400 naming the allowed values.
fn one_of(name: &str, v: Option<String>, allowed: &[&str]) -> Result<Option<String>, ApiError> {
    match v {
        Some(v) if !allowed.contains(&v.as_str()) => {
            Err(query_error(format!("{name} `{v}` must be one of {}", allowed.join(", "))))
        }
        v => Ok(v),
    }
}

/// The project's audit log, newest first, a page at a time.
pub(crate) async fn list(app: &AppState, project: ProjectId, q: AuditLogQuery) -> Result<AuditLogList, ApiError> {
    let given = |v: Option<String>| v.filter(|v| !v.is_empty());
    let limit = q.limit.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(query_error("limit must be within 1..=100"));
    }
    let object_id = given(q.object_id);
    if object_id.as_ref().is_some_and(|v| v.len() > 1000) {
        return Err(query_error("object_id is longer than 1000 characters"));
    }
    let mut query = store::EntryQuery {
        object_type: one_of("object_type", given(q.object_type), &crate::audit::object_types())?,
        object_id,
        credential_type: one_of("credential_type", given(q.credential_type), &["server_key", "management"])?,
        action: one_of("action", given(q.action), &crate::audit::actions())?,
        from: given(q.start_date).map(|v| time("start_date", &v)).transpose()?,
        to: given(q.end_date).map(|v| time("end_date", &v)).transpose()?,
        before_seq: None,
        limit: limit + 1,
    };
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(query_error("start_date must not be after end_date"));
    }
    let mut conn = promo_store::acquire(&app.db).await?;
    if let Some(cursor) = given(q.starting_after_id) {
        let not_ours = || query_error("starting_after_id is not an entry of this project's audit log");
        let id = crate::ids::try_parse(AUDIT_ENTRY, &cursor).ok_or_else(not_ours)?;
        query.before_seq = Some(store::entry_seq(&mut *conn, project, id).await?.ok_or_else(not_ours)?);
    }
    let mut rows = store::list_entries(&mut *conn, project, &query).await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let data: Vec<AuditEntryOut> = rows.into_iter().map(entry).collect();
    let more_starting_after = if has_more { data.last().map(|e| e.id.clone()) } else { None };
    Ok(AuditLogList { object: "list", data_ref: "data", data, has_more, more_starting_after })
}
