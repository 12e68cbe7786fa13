-- Analytics series: redemption figures per object (campaign, tier, code) and 15-minute bucket,
-- so a day or an hour in any time zone (all offsets are whole quarter hours) is a sum of whole
-- buckets. They come from the same deltas as the tier and campaign figures: each delta now
-- carries the bucket it happened in (a column default: the redemption statement is unchanged),
-- and the fold adds it to the series as well as to the totals.
alter table redemption_stats_delta
    add column bucket timestamptz not null default date_bin('15 minutes', now(), timestamptz '2000-01-01 00:00:00+00');

create table redemption_series (
    project_id uuid not null,
    object_id text not null,
    bucket timestamptz not null,
    succeeded bigint not null default 0,
    rolled_back bigint not null default 0,
    order_amount bigint not null default 0,
    discount_amount bigint not null default 0,
    rolled_back_order_amount bigint not null default 0,
    rolled_back_discount_amount bigint not null default 0,
    primary key (project_id, object_id, bucket)
);

-- the ledger so far: redemptions in the bucket they happened in, rollbacks in theirs
insert into redemption_series (project_id, object_id, bucket, succeeded, rolled_back, order_amount, discount_amount,
                               rolled_back_order_amount, rolled_back_discount_amount)
select project_id, object_id, bucket, sum(succeeded), sum(rolled_back), sum(o), sum(d), sum(ro), sum(rd)
  from (select r.project_id, x.object_id, date_bin('15 minutes', r.created_at, timestamptz '2000-01-01 00:00:00+00') as bucket,
               1 as succeeded, 0 as rolled_back,
               coalesce((r.doc -> 'order' ->> 'amount')::bigint, 0) as o,
               coalesce((r.doc -> 'order' ->> 'total_applied_discount_amount')::bigint, 0) as d, 0 as ro, 0 as rd
          from redemption r
          cross join lateral (values (r.related_object_id), ('camp_' || replace(r.campaign_id::text, '-', ''))) x(object_id)
         where r.result = 'SUCCESS' and r.campaign_id is not null and r.related_object_type <> 'redemption'
        union all
        select r.project_id, x.object_id, date_bin('15 minutes', b.created_at, timestamptz '2000-01-01 00:00:00+00'),
               0, 1, 0, 0,
               coalesce((r.doc -> 'order' ->> 'amount')::bigint, 0),
               coalesce((r.doc -> 'order' ->> 'total_applied_discount_amount')::bigint, 0)
          from redemption_rollback b join redemption r using (project_id, redemption_id)
          cross join lateral (values (r.related_object_id), ('camp_' || replace(r.campaign_id::text, '-', ''))) x(object_id)
         where b.result = 'SUCCESS' and r.result = 'SUCCESS' and r.campaign_id is not null
           and r.related_object_type <> 'redemption') t
 group by project_id, object_id, bucket;

create or replace function fold_redemption_stats(batch integer) returns integer language plpgsql as $$
declare
    moved integer;
begin
    with picked as (
        select ctid from redemption_stats_delta limit batch for update skip locked
    ), taken as (
        delete from redemption_stats_delta d using picked where d.ctid = picked.ctid returning d.*
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
               sum(rolled_back_discount_amount) as rolled_back_discount_amount
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
                                            discount_amount, rolled_back_order_amount, rolled_back_discount_amount)
        select project_id, object_id, bucket, succeeded, rolled_back, order_amount, discount_amount,
               rolled_back_order_amount, rolled_back_discount_amount
          from by_bucket order by project_id, object_id, bucket
        on conflict (project_id, object_id, bucket) do update
           set succeeded = s.succeeded + excluded.succeeded,
               rolled_back = s.rolled_back + excluded.rolled_back,
               order_amount = s.order_amount + excluded.order_amount,
               discount_amount = s.discount_amount + excluded.discount_amount,
               rolled_back_order_amount = s.rolled_back_order_amount + excluded.rolled_back_order_amount,
               rolled_back_discount_amount = s.rolled_back_discount_amount + excluded.rolled_back_discount_amount
        returning 1
    )
    select coalesce((select sum(n) from summed), 0)::integer + 0 * (select count(*) from folded)::integer
           + 0 * (select count(*) from series)::integer
      into moved;
    return moved;
end;
$$;

-- validations by 15-minute bucket too (the day-keyed table of the same release is replaced)
drop table validation_stats;
create table validation_stats (
    project_id uuid not null references project (project_id) on delete cascade,
    object_id text not null,
    bucket timestamptz not null,
    succeeded bigint not null default 0,
    failed bigint not null default 0,
    primary key (project_id, object_id, bucket)
);

create or replace function delete_project_ledger() returns trigger language plpgsql as $$
begin
    delete from redemption where project_id = old.project_id;
    delete from order_record where project_id = old.project_id;
    delete from redemption_stats where project_id = old.project_id;
    delete from redemption_stats_delta where project_id = old.project_id;
    delete from redemption_series where project_id = old.project_id;
    return old;
end;
$$;

-- failed redemptions by reason, per period: a partial index only failures write to
create index redemption_failures on redemption (project_id, created_at) where result = 'FAILURE';
