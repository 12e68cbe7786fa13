//! Products and their SKUs (by id or `source_id`).

use crate::documents::{DocTable, doc_table};

pub const PRODUCTS: DocTable = doc_table! {
    table: "product", id: "product_id", source: yes, parent: none,
    derived: [("name", "($4::jsonb ->> 'name')"), ("price", "(($4::jsonb ->> 'price')::bigint)")],
};

pub const SKUS: DocTable = doc_table! {
    table: "sku", id: "sku_id", source: yes, parent: "product_id", derived: [],
};
