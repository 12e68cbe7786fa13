-- Profit impact in the analytics series: each successful redemption of a campaign's tier or
-- code whose order's every line has a known unit cost (the catalog's `cost`) also counts as
-- "costed", with its order amount, discount and the order's cost; its rollback takes them back
-- in the rollback's bucket. Redemptions before this migration carry no cost.
alter table redemption add column cost_amount bigint;

alter table redemption_stats_delta
    add column costed bigint not null default 0,
    add column costed_order_amount bigint not null default 0,
    add column costed_discount_amount bigint not null default 0,
    add column cost_amount bigint not null default 0;

alter table redemption_series
    add column costed bigint not null default 0,
    add column costed_order_amount bigint not null default 0,
    add column costed_discount_amount bigint not null default 0,
    add column cost_amount bigint not null default 0;

create or replace function redemption_stats_rolled_back() returns trigger language plpgsql as $$
declare
    order_doc jsonb := (new.doc -> 'order')::jsonb;
    o_amount bigint := coalesce((order_doc ->> 'amount')::bigint, 0);
    d_amount bigint := coalesce((order_doc ->> 'total_applied_discount_amount')::bigint, 0);
    costed integer := case when new.cost_amount is null then 0 else 1 end;
begin
    insert into redemption_stats_delta (project_id, object_id, rolled_back, rolled_back_order_amount,
                                        rolled_back_discount_amount, costed, costed_order_amount,
                                        costed_discount_amount, cost_amount)
    select new.project_id, x.object_id, 1, o_amount, d_amount, -costed, -costed * o_amount, -costed * d_amount,
           -coalesce(new.cost_amount, 0)
      from (values (new.related_object_id), ('camp_' || replace(new.campaign_id::text, '-', ''))) x(object_id);
    return null;
end;
$$;

create or replace function fold_redemption_stats(batch integer) returns integer language plpgsql as $$
declare
    picked tid[];
    moved integer;
    c record;
    first_ref uuid;
    first_objects text[];
    projects uuid[] := '{}';
    objects text[] := '{}';
    buckets timestamptz[] := '{}';
    new_counts integer[] := '{}';
begin
    -- one fold at a time, oldest deltas first: a customer's first redemption is the first folded
    perform pg_advisory_xact_lock(7370616001);
    select array_agg(ctid) into picked
      from (select ctid from redemption_stats_delta order by created_at limit batch for update skip locked) p;
    if picked is null then
        return 0;
    end if;
    for c in select project_id, object_id, customer_id, redemption_ref, bucket
               from redemption_stats_delta
              where ctid = any(picked) and succeeded > 0 and customer_id is not null and redemption_ref is not null
              order by created_at, redemption_ref, object_id loop
        select redemption_ref, object_ids into first_ref, first_objects
          from customer_first_redemption where project_id = c.project_id and customer_id = c.customer_id;
        if not found then
            insert into customer_first_redemption (project_id, customer_id, redemption_ref, bucket, object_ids)
            values (c.project_id, c.customer_id, c.redemption_ref, c.bucket, array[c.object_id]);
            new_counts := new_counts || 1;
        elsif first_ref = c.redemption_ref then
            if c.object_id = any(first_objects) then
                new_counts := new_counts || 0;
            else
                update customer_first_redemption set object_ids = object_ids || c.object_id
                 where project_id = c.project_id and customer_id = c.customer_id;
                new_counts := new_counts || 1;
            end if;
        else
            continue;
        end if;
        projects := projects || c.project_id;
        objects := objects || c.object_id;
        buckets := buckets || c.bucket;
    end loop;

    with taken as (
        delete from redemption_stats_delta d where d.ctid = any(picked) returning d.*
    ), summed as (
        select project_id, object_id, count(*) as n, sum(succeeded) as succeeded, sum(rolled_back) as rolled_back,
               sum(order_amount) as order_amount, sum(discount_amount) as discount_amount,
               sum(rolled_back_order_amount) as rolled_back_order_amount,
               sum(rolled_back_discount_amount) as rolled_back_discount_amount
          from taken group by project_id, object_id
    ), by_bucket as (
        select project_id, object_id, bucket, sum(succeeded) as succeeded, sum(rolled_back) as rolled_back,
               sum(order_amount) as order_amount, sum(discount_amount) as discount_amount,
               sum(rolled_back_order_amount) as rolled_back_order_amount,
               sum(rolled_back_discount_amount) as rolled_back_discount_amount,
               sum(succeeded) filter (where customer_id is not null) as identified,
               sum(costed) as costed, sum(costed_order_amount) as costed_order_amount,
               sum(costed_discount_amount) as costed_discount_amount, sum(cost_amount) as cost_amount
          from taken group by project_id, object_id, bucket
    ), folded as (
        insert into redemption_stats as s (project_id, object_id, succeeded, rolled_back, order_amount,
                                           discount_amount, rolled_back_order_amount, rolled_back_discount_amount)
        select project_id, object_id, succeeded, rolled_back, order_amount, discount_amount,
               rolled_back_order_amount, rolled_back_discount_amount
          from summed order by project_id, object_id
        on conflict (project_id, object_id) do update
           set succeeded = s.succeeded + excluded.succeeded,
               rolled_back = s.rolled_back + excluded.rolled_back,
               order_amount = s.order_amount + excluded.order_amount,
               discount_amount = s.discount_amount + excluded.discount_amount,
               rolled_back_order_amount = s.rolled_back_order_amount + excluded.rolled_back_order_amount,
               rolled_back_discount_amount = s.rolled_back_discount_amount + excluded.rolled_back_discount_amount
        returning 1
    ), series as (
        insert into redemption_series as s (project_id, object_id, bucket, succeeded, rolled_back, order_amount,
                                            discount_amount, rolled_back_order_amount, rolled_back_discount_amount,
                                            identified, costed, costed_order_amount, costed_discount_amount,
                                            cost_amount)
        select project_id, object_id, bucket, succeeded, rolled_back, order_amount, discount_amount,
               rolled_back_order_amount, rolled_back_discount_amount, coalesce(identified, 0), costed,
               costed_order_amount, costed_discount_amount, cost_amount
          from by_bucket order by project_id, object_id, bucket
        on conflict (project_id, object_id, bucket) do update
           set succeeded = s.succeeded + excluded.succeeded,
               rolled_back = s.rolled_back + excluded.rolled_back,
               order_amount = s.order_amount + excluded.order_amount,
               discount_amount = s.discount_amount + excluded.discount_amount,
               rolled_back_order_amount = s.rolled_back_order_amount + excluded.rolled_back_order_amount,
               rolled_back_discount_amount = s.rolled_back_discount_amount + excluded.rolled_back_discount_amount,
               identified = s.identified + excluded.identified,
               costed = s.costed + excluded.costed,
               costed_order_amount = s.costed_order_amount + excluded.costed_order_amount,
               costed_discount_amount = s.costed_discount_amount + excluded.costed_discount_amount,
               cost_amount = s.cost_amount + excluded.cost_amount
        returning 1
    )
    select coalesce((select sum(n) from summed), 0)::integer + 0 * (select count(*) from folded)::integer
           + 0 * (select count(*) from series)::integer
      into moved;

    -- a separate statement: one statement must not upsert the same series row twice
    insert into redemption_series as s (project_id, object_id, bucket, new_customers, first_redemptions)
    select p, o, b, sum(n), count(*)
      from unnest(projects, objects, buckets, new_counts) as t(p, o, b, n)
     group by 1, 2, 3 order by 1, 2, 3
    on conflict (project_id, object_id, bucket) do update
       set new_customers = s.new_customers + excluded.new_customers,
           first_redemptions = s.first_redemptions + excluded.first_redemptions;
    return moved;
end;
$$;
