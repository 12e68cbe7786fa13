-- Codes at scale and distribution: resumable async actions, the bin, publications of several
-- codes, and webhook events written to the outbox by triggers (so every write path, including
-- the one-statement redemption, enqueues its events in its own transaction).

-- Async actions run by a worker in the service. `locked_until` is a lease: a worker that dies
-- leaves it to expire, and another (or the restarted) server resumes from `processed`.
alter table async_action
    add column locked_until timestamptz,
    add column processed bigint not null default 0,
    add column total bigint not null default 0,
    add column operation_status text,
    add column completed_at timestamptz;

alter table campaign add column vouchers_generation_status text not null default 'DONE';
create index campaign_listing on campaign (project_id, created_at desc, campaign_id desc) where deleted_at is null;

-- The bin: a campaign deleted without `force` takes its codes along; the codes stay reserved.
alter table voucher
    add column deleted_at timestamptz,
    add column publish_count integer not null default 0;
-- Codes free for publication, in a stable order (oldest first).
create index voucher_unpublished on voucher (project_id, campaign_id, created_at, voucher_id)
    where holder_id is null and deleted_at is null;

-- A publication hands out one code or, from a campaign, up to 50.
alter table publication add column voucher_ids uuid[] not null default '{}';
create index publication_campaign_customer on publication (project_id, campaign_id, customer_id);
create index publication_listing on publication (project_id, created_at desc, publication_id desc);

-- ---------- webhooks ----------
alter table webhook_endpoint add column updated_at timestamptz;
-- Delivery order per endpoint.
alter table webhook_outbox add column seq bigserial;
create index webhook_outbox_pending on webhook_outbox (project_id, webhook_id, seq) where delivered_at is null;
create index webhook_outbox_listing on webhook_outbox (project_id, webhook_id, seq desc);

create table webhook_delivery (
    project_id uuid not null,
    webhook_id uuid not null,
    event_id uuid not null,
    attempt integer not null,
    status_code integer,
    error text,
    duration_ms integer not null,
    attempted_at timestamptz not null default now(),
    primary key (project_id, webhook_id, event_id, attempt),
    foreign key (project_id, webhook_id) references webhook_endpoint (project_id, webhook_id) on delete cascade
);

create type webhook_event as (project_id uuid, event_type text, object_id text, data jsonb);

-- Fans events out to the active endpoints of their project subscribed to their type; one event
-- id per event, shared by its deliveries.
create function webhook_enqueue(events webhook_event[]) returns void language sql as $$
    with ev as materialized (
        select gen_random_uuid() as event_id, e.project_id, e.event_type, e.object_id, e.data, e.ord
        from unnest(events) with ordinality as e(project_id, event_type, object_id, data, ord)
    )
    insert into webhook_outbox (project_id, event_id, webhook_id, event_type, object_id, payload)
    select ev.project_id, ev.event_id, w.webhook_id, ev.event_type, ev.object_id,
           jsonb_build_object('id', 'evt_' || replace(ev.event_id::text, '-', ''), 'object', 'event',
                              'type', ev.event_type, 'created_at', now(),
                              'project_id', 'proj_' || replace(ev.project_id::text, '-', ''),
                              'data', jsonb_build_object('object', ev.data))
    from ev join webhook_endpoint w
      on w.project_id = ev.project_id and w.active and ev.event_type = any(w.events)
    order by ev.ord, w.webhook_id
$$;

-- Whether any of these projects has an active endpoint: most have none, and the triggers below
-- then skip building their events.
create function webhook_listening(projects uuid[]) returns boolean language sql stable as $$
    select exists (select 1 from webhook_endpoint w where w.active and w.project_id = any(projects))
$$;

-- A voucher as events carry it: its stored fields with its identity.
create function webhook_voucher(v voucher) returns jsonb language sql immutable as $$
    select v.doc || jsonb_build_object(
        'id', 'v_' || replace(v.voucher_id::text, '-', ''), 'code', v.code, 'object', 'voucher',
        'campaign_id', case when v.campaign_id is null then null else 'camp_' || replace(v.campaign_id::text, '-', '') end,
        'active', v.active,
        'holder_id', case when v.holder_id is null then null else 'cust_' || replace(v.holder_id::text, '-', '') end,
        'created_at', v.created_at, 'updated_at', v.updated_at)
$$;

create function webhook_voucher_inserted() returns trigger language plpgsql as $$
begin
    if webhook_listening(array(select distinct project_id from new_rows)) then
        perform webhook_enqueue(array(
            select row(n.project_id, 'voucher.created', 'v_' || replace(n.voucher_id::text, '-', ''),
                       webhook_voucher(n))::webhook_event
            from new_rows n));
    end if;
    return null;
end;
$$;
create trigger voucher_webhooks_insert after insert on voucher referencing new table as new_rows
    for each statement execute function webhook_voucher_inserted();

create function webhook_voucher_updated() returns trigger language plpgsql as $$
begin
    if webhook_listening(array(select distinct project_id from new_rows)) then
        perform webhook_enqueue(array(
            select row(n.project_id,
                       case when n.deleted_at is not null then 'voucher.deleted' else 'voucher.updated' end,
                       'v_' || replace(n.voucher_id::text, '-', ''), webhook_voucher(n))::webhook_event
            from new_rows n join old_rows o on o.project_id = n.project_id and o.voucher_id = n.voucher_id
            -- a publication (holder) has its own event; moving to the bin is a deletion
            where (n.doc is distinct from o.doc or n.active is distinct from o.active)
               or (n.deleted_at is not null and o.deleted_at is null)));
    end if;
    return null;
end;
$$;
create trigger voucher_webhooks_update after update on voucher referencing old table as old_rows new table as new_rows
    for each statement execute function webhook_voucher_updated();

create function webhook_voucher_deleted() returns trigger language plpgsql as $$
begin
    if webhook_listening(array(select distinct project_id from old_rows)) then
        perform webhook_enqueue(array(
            select row(o.project_id, 'voucher.deleted', 'v_' || replace(o.voucher_id::text, '-', ''),
                       webhook_voucher(o))::webhook_event
            from old_rows o where o.deleted_at is null));
    end if;
    return null;
end;
$$;
create trigger voucher_webhooks_delete after delete on voucher referencing old table as old_rows
    for each statement execute function webhook_voucher_deleted();

create function webhook_campaign(c campaign) returns jsonb language sql immutable as $$
    select c.doc || jsonb_build_object(
        'id', 'camp_' || replace(c.campaign_id::text, '-', ''), 'name', c.name, 'object', 'campaign',
        'campaign_type', c.campaign_type, 'type', c.type, 'active', c.active,
        'created_at', c.created_at, 'updated_at', c.updated_at)
$$;

create function webhook_campaign_updated() returns trigger language plpgsql as $$
begin
    if webhook_listening(array(select distinct project_id from new_rows)) then
        perform webhook_enqueue(array(
            select row(n.project_id,
                       case when n.deleted_at is not null and o.deleted_at is null then 'campaign.deleted'
                            when n.active then 'campaign.enabled' else 'campaign.disabled' end,
                       'camp_' || replace(n.campaign_id::text, '-', ''), webhook_campaign(n))::webhook_event
            from new_rows n join old_rows o on o.project_id = n.project_id and o.campaign_id = n.campaign_id
            where (n.deleted_at is not null and o.deleted_at is null)
               or (n.deleted_at is null and n.active is distinct from o.active)));
    end if;
    return null;
end;
$$;
create trigger campaign_webhooks_update after update on campaign referencing old table as old_rows new table as new_rows
    for each statement execute function webhook_campaign_updated();

create function webhook_campaign_deleted() returns trigger language plpgsql as $$
begin
    if webhook_listening(array(select distinct project_id from old_rows)) then
        perform webhook_enqueue(array(
            select row(o.project_id, 'campaign.deleted', 'camp_' || replace(o.campaign_id::text, '-', ''),
                       webhook_campaign(o))::webhook_event
            from old_rows o where o.deleted_at is null));
    end if;
    return null;
end;
$$;
create trigger campaign_webhooks_delete after delete on campaign referencing old table as old_rows
    for each statement execute function webhook_campaign_deleted();

-- Redemption events are enqueued by the redemption statement itself (`ledger::record`): a
-- statement trigger with a transition table on the ledger cost 4–10% of redemption throughput
-- even for projects without endpoints, the statement skips them with one index probe.

-- Rollback events, for top-level redemptions only (a stacked rollback also writes rows for its
-- children), with the rollback as the API renders it: a rollback row is inserted with an empty
-- document (it claims the redemption) and given its document later in the same transaction, so
-- the event goes out with that update.
create function webhook_rollback_documented() returns trigger language plpgsql as $$
begin
    if webhook_listening(array(select distinct project_id from new_rows)) then
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
    end if;
    return null;
end;
$$;
create trigger rollback_webhooks after update on redemption_rollback
    referencing old table as old_rows new table as new_rows
    for each statement execute function webhook_rollback_documented();

create function webhook_publication_inserted() returns trigger language plpgsql as $$
begin
    if webhook_listening(array(select distinct project_id from new_rows)) then
        perform webhook_enqueue(array(
            select row(n.project_id, 'voucher.published', 'pub_' || replace(n.publication_id::text, '-', ''),
                       n.doc)::webhook_event
            from new_rows n));
    end if;
    return null;
end;
$$;
create trigger publication_webhooks after insert on publication referencing new table as new_rows
    for each statement execute function webhook_publication_inserted();
