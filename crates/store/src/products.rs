//! Products and their SKUs (by id or `source_id`).

use crate::documents::DocTable;

pub const PRODUCTS: DocTable = DocTable {
    table: "product",
    id: "product_id",
    derived: &[("name", "($doc ->> 'name')"), ("price", "(($doc ->> 'price')::bigint)")],
    parent: None,
    has_source: true,
};

pub const SKUS: DocTable =
    DocTable { table: "sku", id: "sku_id", derived: &[], parent: Some("product_id"), has_source: true };
