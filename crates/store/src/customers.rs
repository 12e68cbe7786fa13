//! Customers (by id or `source_id`).

use crate::documents::DocTable;

pub const CUSTOMERS: DocTable = DocTable {
    table: "customer",
    id: "customer_id",
    derived: &[("email", "($doc ->> 'email')")],
    parent: None,
    has_source: true,
};
