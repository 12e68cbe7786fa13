-- Redemption events are enqueued by the redemption statement itself (see `ledger::record`):
-- a statement trigger with a transition table cost 4–10% of redemption throughput even for
-- projects without webhook endpoints; the statement skips it with one index probe.
drop trigger redemption_webhooks on redemption;
drop function webhook_redemption_inserted();

-- Rollback events for top-level redemptions only (a stacked rollback also writes rows for its
-- children), as for redemption events, and with the rollback as the API renders it: a rollback
-- row is inserted first with an empty document (it claims the redemption) and given its
-- document later in the same transaction, so the event goes out with that update.
create or replace function webhook_rollback_inserted() returns trigger language plpgsql as $$
begin
    if not exists (select 1 from webhook_endpoint w where w.active and w.project_id in (select project_id from new_rows)) then
        return null;
    end if;
    perform webhook_enqueue(array(
        select row(n.project_id,
                   case when n.result = 'SUCCESS' then 'redemption.rollback.succeeded'
                        else 'redemption.rollback.failed' end,
                   coalesce(n.doc ->> 'id', n.rollback_id::text), n.doc)::webhook_event
        from new_rows n
        join redemption r on r.project_id = n.project_id and r.redemption_id = n.redemption_id
        where r.parent_id is null and n.doc <> '{}'::jsonb
        order by n.created_at, n.rollback_id));
    return null;
end;
$$;

create function webhook_rollback_documented() returns trigger language plpgsql as $$
begin
    if not exists (select 1 from webhook_endpoint w where w.active and w.project_id in (select project_id from new_rows)) then
        return null;
    end if;
    perform webhook_enqueue(array(
        select row(n.project_id,
                   case when n.result = 'SUCCESS' then 'redemption.rollback.succeeded'
                        else 'redemption.rollback.failed' end,
                   coalesce(n.doc ->> 'id', n.rollback_id::text), n.doc)::webhook_event
        from new_rows n
        join old_rows o on o.project_id = n.project_id and o.rollback_id = n.rollback_id
        join redemption r on r.project_id = n.project_id and r.redemption_id = n.redemption_id
        where r.parent_id is null and o.doc = '{}'::jsonb and n.doc <> '{}'::jsonb
        order by n.created_at, n.rollback_id));
    return null;
end;
$$;
create trigger rollback_webhooks_update after update on redemption_rollback
    referencing old table as old_rows new table as new_rows
    for each statement execute function webhook_rollback_documented();
