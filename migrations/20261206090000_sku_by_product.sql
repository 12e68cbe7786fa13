-- A product's SKUs are read with the product (GET /v1/products, its SKU list): by product,
-- oldest first, without scanning the project's other SKUs.
create index sku_by_product on sku (project_id, product_id, created_at, sku_id);
