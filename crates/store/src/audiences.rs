//! Segments, product collections and orders.

use crate::ProjectId;
use crate::StoreError;
use crate::documents::DocTable;
use sqlx::PgExecutor;
use uuid::Uuid;

pub const SEGMENTS: DocTable = DocTable {
    table: "segment",
    id: "segment_id",
    derived: &[("name", "($doc ->> 'name')"), ("type", "($doc ->> 'type')")],
    parent: None,
    has_source: false,
};

pub const COLLECTIONS: DocTable = DocTable {
    table: "product_collection",
    id: "collection_id",
    derived: &[("name", "($doc ->> 'name')"), ("type", "($doc ->> 'type')")],
    parent: None,
    has_source: false,
};

pub const ORDERS: DocTable = DocTable {
    table: "order_record",
    id: "order_id",
    derived: &[
        ("status", "coalesce($doc ->> 'status', 'CREATED')"),
        ("amount", "coalesce(($doc ->> 'amount')::bigint, 0)"),
    ],
    parent: None,
    has_source: true,
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
