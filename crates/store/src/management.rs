//! Management API credentials when they do not come from the environment.

use crate::StoreError;
use sqlx::PgExecutor;

/// The stored management credential (id and token hash), if any.
pub async fn get(db: impl PgExecutor<'_>) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    Ok(sqlx::query_as::<_, (String, Vec<u8>)>(
        "select management_id, token_hash from management_credential order by created_at limit 1",
    )
    .fetch_optional(db)
    .await?)
}

/// Stores a credential; returns false when one already exists (another process won the race).
pub async fn insert_if_none(db: impl PgExecutor<'_>, id: &str, token_hash: &[u8]) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "insert into management_credential (management_id, token_hash)
         select $1, $2 where not exists (select 1 from management_credential)",
    )
    .bind(id)
    .bind(token_hash)
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}
