-- Redemption figures per promotion tier, campaign code and campaign (tier and campaign
-- summaries), kept with the ledger in the redemption's own transaction, so they equal the
-- ledger after races, rollbacks and crashes.
--
-- A redemption (and a rollback) appends delta rows; it never updates a shared row, so
-- redemptions of one campaign neither wait on each other nor deadlock. A background fold moves
-- deltas into one row per object in a transaction of its own (deleted and added at once, so a
-- reader summing both sees each delta exactly once), keeping reads short. Standalone vouchers
-- have no figures here (their quantity counter or the ledger answers for them).
create table redemption_stats (
    project_id uuid not null,
    object_id text not null,
    -- successful redemptions, and of those the ones rolled back since
    succeeded bigint not null default 0,
    rolled_back bigint not null default 0,
    -- order amounts and discounts of the successful ones, and of those rolled back
    order_amount bigint not null default 0,
    discount_amount bigint not null default 0,
    rolled_back_order_amount bigint not null default 0,
    rolled_back_discount_amount bigint not null default 0,
    primary key (project_id, object_id)
);
create table redemption_stats_delta (like redemption_stats including defaults);
create index redemption_stats_delta_object on redemption_stats_delta (project_id, object_id);

-- A redemption's deltas are written by the redemption statement itself (from amounts the
-- service passes: no document is parsed). A rollback's come from this trigger: the redeemed
-- object and its campaign lose the redemption's order amount and discount, read once from its
-- document (rollbacks are rare next to redemptions).
create function redemption_stats_rolled_back() returns trigger language plpgsql as $$
declare
    order_doc jsonb := (new.doc -> 'order')::jsonb;
    o_amount bigint := coalesce((order_doc ->> 'amount')::bigint, 0);
    d_amount bigint := coalesce((order_doc ->> 'total_applied_discount_amount')::bigint, 0);
begin
    insert into redemption_stats_delta (project_id, object_id, rolled_back, rolled_back_order_amount,
                                        rolled_back_discount_amount)
    values (new.project_id, new.related_object_id, 1, o_amount, d_amount),
           (new.project_id, 'camp_' || replace(new.campaign_id::text, '-', ''), 1, o_amount, d_amount);
    return null;
end;
$$;
create trigger redemption_stats_rolled_back after update of status on redemption for each row
    when (new.status = 'ROLLED_BACK' and old.status is distinct from 'ROLLED_BACK' and new.result = 'SUCCESS'
          and new.campaign_id is not null and new.related_object_type <> 'redemption')
    execute function redemption_stats_rolled_back();

-- Moves up to `batch` deltas into the per-object rows; returns how many it moved. Concurrent
-- folds take disjoint deltas (skip locked) and update objects in one order (no deadlock).
create function fold_redemption_stats(batch integer) returns integer language plpgsql as $$
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
    )
    select coalesce((select sum(n) from summed), 0)::integer + 0 * (select count(*) from folded)::integer
      into moved;
    return moved;
end;
$$;

-- the ledger so far
insert into redemption_stats (project_id, object_id, succeeded, rolled_back, order_amount, discount_amount,
                              rolled_back_order_amount, rolled_back_discount_amount)
select project_id, object_id, count(*), count(*) filter (where status = 'ROLLED_BACK'),
       sum(o_amount), sum(d_amount),
       coalesce(sum(o_amount) filter (where status = 'ROLLED_BACK'), 0),
       coalesce(sum(d_amount) filter (where status = 'ROLLED_BACK'), 0)
  from (select r.project_id, r.status, x.object_id,
               coalesce((r.doc -> 'order' ->> 'amount')::bigint, 0) as o_amount,
               coalesce((r.doc -> 'order' ->> 'total_applied_discount_amount')::bigint, 0) as d_amount
          from redemption r
          cross join lateral (values (r.related_object_id),
                                     ('camp_' || replace(r.campaign_id::text, '-', ''))) x(object_id)
         where r.result = 'SUCCESS' and r.campaign_id is not null and r.related_object_type <> 'redemption') t
 group by project_id, object_id;

create or replace function delete_project_ledger() returns trigger language plpgsql as $$
begin
    delete from redemption where project_id = old.project_id;
    delete from order_record where project_id = old.project_id;
    delete from redemption_stats where project_id = old.project_id;
    delete from redemption_stats_delta where project_id = old.project_id;
    return old;
end;
$$;
