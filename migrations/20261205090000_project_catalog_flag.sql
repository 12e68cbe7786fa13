-- Checkouts resolve cart lines against the product catalog (one extra read) only in projects
-- that have one. The first product or SKU of a project sets the flag and bumps the definitions
-- version, so cached definitions learn of it; later catalog writes touch neither (a price
-- import must not recompile every project's definitions). The flag is never cleared: a project
-- that deleted its catalog pays one empty read per checkout.
alter table project add column has_catalog boolean not null default false;
update project p set has_catalog = true
 where exists (select 1 from product where project_id = p.project_id);

create function catalog_started() returns trigger language plpgsql as $$
begin
    update project set has_catalog = true, definitions_version = definitions_version + 1
     where project_id = new.project_id and not has_catalog;
    return null;
end;
$$;
create trigger product_catalog_started after insert on product
    for each row execute function catalog_started();
