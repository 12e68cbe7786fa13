//! Customers (by id or `source_id`).

use crate::documents::{DocTable, doc_table};

pub const CUSTOMERS: DocTable = doc_table! {
    table: "customer", id: "customer_id", source: yes, parent: none,
    derived: [("email", "($4::jsonb ->> 'email')")],
};
