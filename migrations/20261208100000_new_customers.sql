-- New and returning customers in the analytics series. A customer's first redemption is the
-- first successful one folded (the fold runs one at a time, in time order); every object it
-- redeemed (its codes or tiers and their campaigns) gains the customer as new, in its bucket.
-- Each delta now carries its customer and its top-level redemption.

-- everything recorded so far is folded under the old function first, then backfilled below
select fold_redemption_stats(2000000000);

alter table redemption_stats_delta
    add column customer_id uuid,
    add column redemption_ref uuid,
    add column created_at timestamptz not null default now();

alter table redemption_series
    add column identified bigint not null default 0,
    add column new_customers bigint not null default 0,
    add column first_redemptions bigint not null default 0;

create table customer_first_redemption (
    project_id uuid not null references project (project_id) on delete cascade,
    customer_id uuid not null,
    redemption_ref uuid not null,
    bucket timestamptz not null,
    object_ids text[] not null,
    primary key (project_id, customer_id)
);

-- the ledger so far
insert into customer_first_redemption (project_id, customer_id, redemption_ref, bucket, object_ids)
select f.project_id, f.customer_id, f.ref, f.bucket, o.object_ids
  from (select distinct on (project_id, customer_id) project_id, customer_id,
               coalesce(parent_id, redemption_id) as ref,
               date_bin('15 minutes', created_at, timestamptz '2000-01-01 00:00:00+00') as bucket
          from redemption
         where result = 'SUCCESS' and customer_id is not null and campaign_id is not null
           and related_object_type <> 'redemption'
         order by project_id, customer_id, created_at, coalesce(parent_id, redemption_id)) f
  cross join lateral (
        select array_agg(distinct x.object_id) as object_ids
          from redemption r
         cross join lateral (values (r.related_object_id), ('camp_' || replace(r.campaign_id::text, '-', ''))) x(object_id)
         where r.project_id = f.project_id and r.customer_id = f.customer_id
           and coalesce(r.parent_id, r.redemption_id) = f.ref and r.result = 'SUCCESS'
           and r.campaign_id is not null and r.related_object_type <> 'redemption') o;

insert into redemption_series as s (project_id, object_id, bucket, identified, first_redemptions)
select r.project_id, x.object_id, date_bin('15 minutes', r.created_at, timestamptz '2000-01-01 00:00:00+00'),
       count(*), count(*) filter (where f.redemption_ref = coalesce(r.parent_id, r.redemption_id))
  from redemption r
  join customer_first_redemption f using (project_id, customer_id)
 cross join lateral (values (r.related_object_id), ('camp_' || replace(r.campaign_id::text, '-', ''))) x(object_id)
 where r.result = 'SUCCESS' and r.customer_id is not null and r.campaign_id is not null
   and r.related_object_type <> 'redemption'
 group by 1, 2, 3
on conflict (project_id, object_id, bucket) do update
   set identified = excluded.identified, first_redemptions = excluded.first_redemptions;

insert into redemption_series as s (project_id, object_id, bucket, new_customers)
select project_id, object_id, bucket, count(*)
  from customer_first_redemption cross join lateral unnest(object_ids) as object_id
 group by 1, 2, 3
on conflict (project_id, object_id, bucket) do update set new_customers = excluded.new_customers;

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
               sum(succeeded) filter (where customer_id is not null) as identified
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
                                            identified)
        select project_id, object_id, bucket, succeeded, rolled_back, order_amount, discount_amount,
               rolled_back_order_amount, rolled_back_discount_amount, coalesce(identified, 0)
          from by_bucket order by project_id, object_id, bucket
        on conflict (project_id, object_id, bucket) do update
           set succeeded = s.succeeded + excluded.succeeded,
               rolled_back = s.rolled_back + excluded.rolled_back,
               order_amount = s.order_amount + excluded.order_amount,
               discount_amount = s.discount_amount + excluded.discount_amount,
               rolled_back_order_amount = s.rolled_back_order_amount + excluded.rolled_back_order_amount,
               rolled_back_discount_amount = s.rolled_back_discount_amount + excluded.rolled_back_discount_amount,
               identified = s.identified + excluded.identified
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
