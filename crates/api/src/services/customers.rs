//! Customers as a checkout or an admin call writes them.

use crate::error::{ApiError, invalid};
use crate::wire::metadata;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CustomerIn {
    pub source_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `YYYY-MM-DD`.
    pub birthdate: Option<String>,
    pub birthday: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub address: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

pub fn into_doc(c: CustomerIn) -> Result<(Option<String>, Value), ApiError> {
    if let Some(s) = &c.source_id
        && (s.trim().is_empty() || s.len() > 200)
    {
        return Err(invalid("Property .source_id must be a non-empty string of at most 200 characters"));
    }
    if let Some(e) = &c.email
        && (!e.contains('@') || e.len() > 320)
    {
        return Err(invalid("Property .email must be an email address"));
    }
    for (field, v) in [("birthdate", &c.birthdate), ("birthday", &c.birthday)] {
        if let Some(d) = v {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| invalid(format!("Property .{field} must be a date YYYY-MM-DD")))?;
        }
    }
    if c.address.as_ref().is_some_and(|a| !a.is_object()) {
        return Err(invalid("Property .address must be an object"));
    }
    let doc = json!({
        "name": c.name, "email": c.email, "phone": c.phone, "birthdate": c.birthdate.or(c.birthday),
        "description": c.description, "address": c.address, "metadata": metadata(c.metadata)?,
    });
    Ok((c.source_id, crate::wire::strip_nulls(doc)))
}
