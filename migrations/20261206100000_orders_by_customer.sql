-- A customer's summary (GET, and a page of the customer list) counts their orders: by customer,
-- without scanning the project's other orders.
create index order_record_by_customer on order_record (project_id, customer_id) where customer_id is not null;
