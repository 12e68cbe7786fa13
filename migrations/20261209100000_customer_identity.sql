-- What per-customer limits count by: the customer account (`customer`, as before), the
-- normalised e-mail (`email`), the phone (`phone`), or a value of the request's metadata
-- (`metadata.<key>`, e.g. a device id). Checked by the API when written.
alter table project add column customer_identity text not null default 'customer';
