-- Webhook payloads are rendered by the service (`services::webhooks::render_event`), not here.
-- The triggers only capture, in the transaction of the write, what an event is about: a voucher
-- or campaign row as written (`to_jsonb`), or the document the service already rendered
-- (redemptions, rollbacks, publications). The service wraps it in the event envelope and renders a
-- voucher or campaign from its row (its stored fields with its identity, timestamps in the API's
-- format) when it delivers or lists the event.
--
-- Events enqueued before this migration carry their whole payload (`envelope`): sent as they are.
alter table webhook_outbox add column envelope boolean not null default true;
alter table webhook_outbox alter column envelope set default false;

create or replace function webhook_enqueue(events webhook_event[]) returns void language sql as $$
    with ev as materialized (
        select gen_random_uuid() as event_id, e.project_id, e.event_type, e.object_id, e.data, e.ord
        from unnest(events) with ordinality as e(project_id, event_type, object_id, data, ord)
    )
    insert into webhook_outbox (project_id, event_id, webhook_id, event_type, object_id, payload)
    select ev.project_id, ev.event_id, w.webhook_id, ev.event_type, ev.object_id, ev.data
    from ev join webhook_endpoint w
      on w.project_id = ev.project_id and w.active and ev.event_type = any(w.events)
    order by ev.ord, w.webhook_id
$$;

create or replace function webhook_voucher_inserted() returns trigger language plpgsql as $$
begin
    if webhook_listening(array(select distinct project_id from new_rows)) then
        perform webhook_enqueue(array(
            select row(n.project_id, 'voucher.created', 'v_' || replace(n.voucher_id::text, '-', ''),
                       to_jsonb(n))::webhook_event
            from new_rows n));
    end if;
    return null;
end;
$$;

create or replace function webhook_voucher_updated() returns trigger language plpgsql as $$
begin
    if webhook_listening(array(select distinct project_id from new_rows)) then
        perform webhook_enqueue(array(
            select row(n.project_id,
                       case when n.deleted_at is not null then 'voucher.deleted' else 'voucher.updated' end,
                       'v_' || replace(n.voucher_id::text, '-', ''), to_jsonb(n))::webhook_event
            from new_rows n join old_rows o on o.project_id = n.project_id and o.voucher_id = n.voucher_id
            -- a publication (holder) has its own event; moving to the bin is a deletion
            where (n.doc is distinct from o.doc or n.active is distinct from o.active)
               or (n.deleted_at is not null and o.deleted_at is null)));
    end if;
    return null;
end;
$$;

create or replace function webhook_voucher_deleted() returns trigger language plpgsql as $$
begin
    if webhook_listening(array(select distinct project_id from old_rows)) then
        perform webhook_enqueue(array(
            select row(o.project_id, 'voucher.deleted', 'v_' || replace(o.voucher_id::text, '-', ''),
                       to_jsonb(o))::webhook_event
            from old_rows o where o.deleted_at is null));
    end if;
    return null;
end;
$$;

create or replace function webhook_campaign_updated() returns trigger language plpgsql as $$
begin
    if webhook_listening(array(select distinct project_id from new_rows)) then
        perform webhook_enqueue(array(
            select row(n.project_id,
                       case when n.deleted_at is not null and o.deleted_at is null then 'campaign.deleted'
                            when n.active then 'campaign.enabled' else 'campaign.disabled' end,
                       'camp_' || replace(n.campaign_id::text, '-', ''), to_jsonb(n))::webhook_event
            from new_rows n join old_rows o on o.project_id = n.project_id and o.campaign_id = n.campaign_id
            where (n.deleted_at is not null and o.deleted_at is null)
               or (n.deleted_at is null and n.active is distinct from o.active)));
    end if;
    return null;
end;
$$;

create or replace function webhook_campaign_deleted() returns trigger language plpgsql as $$
begin
    if webhook_listening(array(select distinct project_id from old_rows)) then
        perform webhook_enqueue(array(
            select row(o.project_id, 'campaign.deleted', 'camp_' || replace(o.campaign_id::text, '-', ''),
                       to_jsonb(o))::webhook_event
            from old_rows o where o.deleted_at is null));
    end if;
    return null;
end;
$$;

drop function webhook_voucher(voucher);
drop function webhook_campaign(campaign);
