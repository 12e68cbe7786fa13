//! Segments, product collections and orders.

use crate::ProjectId;
use crate::StoreError;
use crate::documents::{DocTable, doc_table};
use sqlx::PgExecutor;
use uuid::Uuid;

pub const SEGMENTS: DocTable = doc_table! {
    table: "segment", id: "segment_id", source: no, parent: none,
    derived: [("name", "($4::jsonb ->> 'name')"), ("type", "($4::jsonb ->> 'type')")],
};

pub const COLLECTIONS: DocTable = doc_table! {
    table: "product_collection", id: "collection_id", source: no, parent: none,
    derived: [("name", "($4::jsonb ->> 'name')"), ("type", "($4::jsonb ->> 'type')")],
};

pub const ORDERS: DocTable = doc_table! {
    table: "order_record", id: "order_id", source: yes, parent: none,
    derived: [
        ("status", "coalesce($4::jsonb ->> 'status', 'CREATED')"),
        ("amount", "coalesce(($4::jsonb ->> 'amount')::bigint, 0)"),
    ],
};

/// Sets a static segment's members (in the caller's transaction).
pub async fn add_segment_member(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    segment: Uuid,
    customer: Uuid,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into segment_member (project_id, segment_id, customer_id) values ($1, $2, $3) on conflict do nothing",
    )
    .bind(project)
    .bind(segment)
    .bind(customer)
    .execute(db)
    .await?;
    Ok(())
}
