-- The promotion engine's schema. Every tenant table leads its primary key and indexes with
-- project_id and no statement spans projects, so the schema can be distributed by project
-- (Citus) unchanged. Definitions keep their full wire document in `doc` next to the columns that
-- are queried or constrained. Ids are UUIDv7 (time-ordered); the wire adds a prefix (camp_, v_…).

create function set_updated_at() returns trigger language plpgsql as $$
begin
    new.updated_at = now();
    return new;
end;
$$;

-- Management API credentials (when not given by environment variables). Only hashes are stored.
create table management_credential (
    management_id text primary key,
    token_hash bytea not null,
    created_at timestamptz not null default now()
);

create table project (
    project_id uuid primary key,
    name text not null,
    description text,
    timezone text not null default 'UTC',
    currency text not null default 'USD',
    case_sensitive_codes boolean not null default false,
    client_trusted_domains text[] not null default '{}',
    client_redeem_enabled boolean not null default false,
    -- null: the default stacking rules
    stacking_rules jsonb,
    stacking_rules_id uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create trigger project_updated_at before update on project for each row execute function set_updated_at();

-- Application keys. The app id embeds the project id, so authentication is a point lookup on
-- (project_id, app_id) without any cross-project index. Only the token hash is stored.
create table api_key (
    project_id uuid not null references project (project_id) on delete cascade,
    app_id text not null,
    kind text not null check (kind in ('server', 'client')),
    token_hash bytea not null,
    created_at timestamptz not null default now(),
    primary key (project_id, app_id)
);

create table category (
    project_id uuid not null references project (project_id) on delete cascade,
    category_id uuid not null,
    name text not null,
    hierarchy integer not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz,
    primary key (project_id, category_id),
    unique (project_id, name)
);

create table validation_rule (
    project_id uuid not null references project (project_id) on delete cascade,
    rule_id uuid not null,
    name text not null,
    doc jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz,
    primary key (project_id, rule_id),
    unique (project_id, name)
);

create table validation_rule_assignment (
    project_id uuid not null,
    assignment_id uuid not null,
    rule_id uuid not null,
    related_object_type text not null,
    related_object_id text not null,
    created_at timestamptz not null default now(),
    primary key (project_id, assignment_id),
    unique (project_id, related_object_type, related_object_id, rule_id),
    foreign key (project_id, rule_id) references validation_rule (project_id, rule_id) on delete cascade
);
create index validation_rule_assignment_object on validation_rule_assignment (project_id, related_object_id);

create table campaign (
    project_id uuid not null references project (project_id) on delete cascade,
    campaign_id uuid not null,
    name text not null,
    campaign_type text not null,
    type text not null,
    active boolean not null default true,
    category_id uuid,
    doc jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz,
    deleted_at timestamptz,
    primary key (project_id, campaign_id),
    unique (project_id, name)
);

create table voucher (
    project_id uuid not null references project (project_id) on delete cascade,
    voucher_id uuid not null,
    code text not null,
    -- the code as compared: upper-cased unless the project's codes are case sensitive
    code_key text not null,
    campaign_id uuid,
    active boolean not null default true,
    holder_id uuid,
    doc jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz,
    primary key (project_id, voucher_id),
    unique (project_id, code_key)
);
create index voucher_campaign on voucher (project_id, campaign_id, voucher_id);

create table promotion_tier (
    project_id uuid not null,
    tier_id uuid not null,
    campaign_id uuid not null,
    hierarchy integer not null,
    active boolean not null default true,
    doc jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz,
    primary key (project_id, tier_id),
    foreign key (project_id, campaign_id) references campaign (project_id, campaign_id) on delete cascade
);
create index promotion_tier_campaign on promotion_tier (project_id, campaign_id, hierarchy);

create table promotion_stack (
    project_id uuid not null,
    stack_id uuid not null,
    campaign_id uuid not null,
    doc jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz,
    primary key (project_id, stack_id),
    foreign key (project_id, campaign_id) references campaign (project_id, campaign_id) on delete cascade
);

create table customer (
    project_id uuid not null references project (project_id) on delete cascade,
    customer_id uuid not null,
    source_id text,
    email text,
    doc jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz,
    primary key (project_id, customer_id),
    unique (project_id, source_id)
);
create index customer_email on customer (project_id, lower(email));

create table segment (
    project_id uuid not null references project (project_id) on delete cascade,
    segment_id uuid not null,
    name text not null,
    type text not null,
    doc jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz,
    primary key (project_id, segment_id)
);

-- Static segment membership.
create table segment_member (
    project_id uuid not null,
    segment_id uuid not null,
    customer_id uuid not null,
    primary key (project_id, segment_id, customer_id),
    foreign key (project_id, segment_id) references segment (project_id, segment_id) on delete cascade,
    foreign key (project_id, customer_id) references customer (project_id, customer_id) on delete cascade
);
create index segment_member_customer on segment_member (project_id, customer_id);

create table product (
    project_id uuid not null references project (project_id) on delete cascade,
    product_id uuid not null,
    source_id text,
    name text,
    price bigint,
    doc jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz,
    primary key (project_id, product_id),
    unique (project_id, source_id)
);

create table sku (
    project_id uuid not null,
    sku_id uuid not null,
    product_id uuid not null,
    source_id text,
    doc jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz,
    primary key (project_id, sku_id),
    unique (project_id, source_id),
    foreign key (project_id, product_id) references product (project_id, product_id) on delete cascade
);

create table product_collection (
    project_id uuid not null references project (project_id) on delete cascade,
    collection_id uuid not null,
    name text not null,
    type text not null,
    doc jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz,
    primary key (project_id, collection_id)
);

-- "order" is a reserved word; the wire object is still "order".
create table order_record (
    project_id uuid not null references project (project_id) on delete cascade,
    order_id uuid not null,
    source_id text,
    status text not null,
    customer_id uuid,
    amount bigint not null default 0,
    doc jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz,
    primary key (project_id, order_id),
    unique (project_id, source_id)
);

create table metadata_schema (
    project_id uuid not null references project (project_id) on delete cascade,
    schema_id uuid not null,
    related_object text not null,
    doc jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz,
    primary key (project_id, schema_id),
    unique (project_id, related_object)
);

-- Distribution, the ledger and its counters (checkout and codes issues).

create table publication (
    project_id uuid not null,
    publication_id uuid not null,
    voucher_id uuid not null,
    customer_id uuid not null,
    campaign_id uuid,
    source_id text,
    doc jsonb not null,
    created_at timestamptz not null default now(),
    primary key (project_id, publication_id),
    unique (project_id, source_id),
    foreign key (project_id, voucher_id) references voucher (project_id, voucher_id) on delete cascade
);
create index publication_customer on publication (project_id, customer_id);

-- Append-only: successful and failed redemptions (parents and children).
create table redemption (
    project_id uuid not null references project (project_id) on delete cascade,
    redemption_id uuid not null,
    parent_id uuid,
    result text not null check (result in ('SUCCESS', 'FAILURE')),
    status text not null,
    related_object_type text not null,
    related_object_id text not null,
    campaign_id uuid,
    customer_id uuid,
    order_id uuid,
    amount bigint not null default 0,
    session_key text,
    failure_code text,
    failure_message text,
    -- what it consumed: [{"key": counter key, "delta": n}], restored exactly by its rollback
    claims jsonb not null default '[]',
    doc jsonb not null,
    created_at timestamptz not null default now(),
    primary key (project_id, redemption_id)
);
create index redemption_listing on redemption (project_id, created_at desc, redemption_id desc);
create index redemption_object on redemption (project_id, related_object_id, created_at desc);

create table redemption_rollback (
    project_id uuid not null,
    rollback_id uuid not null,
    redemption_id uuid not null,
    result text not null check (result in ('SUCCESS', 'FAILURE')),
    doc jsonb not null,
    created_at timestamptz not null default now(),
    primary key (project_id, rollback_id),
    -- a redemption is rolled back at most once
    unique (project_id, redemption_id),
    foreign key (project_id, redemption_id) references redemption (project_id, redemption_id)
);

-- Counters that enforce limits (quantity, per customer, per day/month, budgets), updated with
-- guarded atomic updates in the redemption transaction.
create table counter (
    project_id uuid not null references project (project_id) on delete cascade,
    counter_key text not null,
    value bigint not null default 0,
    updated_at timestamptz not null default now(),
    primary key (project_id, counter_key)
);

-- Validation sessions (LOCK) reserving counter slots until they expire or are redeemed.
create table session_reservation (
    project_id uuid not null references project (project_id) on delete cascade,
    session_key text not null,
    counter_key text not null,
    amount bigint not null,
    expires_at timestamptz not null,
    primary key (project_id, session_key, counter_key)
);
create index session_reservation_counter on session_reservation (project_id, counter_key, expires_at);

create table idempotency_key (
    project_id uuid not null references project (project_id) on delete cascade,
    idempotency_key text not null,
    request_hash bytea not null,
    status_code smallint,
    response_body bytea,
    response_headers jsonb,
    created_at timestamptz not null default now(),
    primary key (project_id, idempotency_key)
);
create index idempotency_key_expiry on idempotency_key (created_at);

create table async_action (
    project_id uuid not null references project (project_id) on delete cascade,
    async_action_id uuid not null,
    type text not null,
    status text not null,
    progress integer not null default 0,
    request jsonb not null default '{}',
    result jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (project_id, async_action_id)
);
create index async_action_pending on async_action (status, created_at) where status in ('ENQUEUED', 'IN_PROGRESS');

create table webhook_endpoint (
    project_id uuid not null references project (project_id) on delete cascade,
    webhook_id uuid not null,
    url text not null,
    secret text not null,
    events text[] not null,
    active boolean not null default true,
    created_at timestamptz not null default now(),
    primary key (project_id, webhook_id)
);

-- Written in the same transaction as the event; a worker delivers at least once.
create table webhook_outbox (
    project_id uuid not null,
    event_id uuid not null,
    webhook_id uuid not null,
    event_type text not null,
    object_id text,
    payload jsonb not null,
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    delivered_at timestamptz,
    last_error text,
    created_at timestamptz not null default now(),
    primary key (project_id, event_id, webhook_id),
    foreign key (project_id, webhook_id) references webhook_endpoint (project_id, webhook_id) on delete cascade
);
create index webhook_outbox_due on webhook_outbox (next_attempt_at) where delivered_at is null;

create table activity_log (
    project_id uuid not null references project (project_id) on delete cascade,
    activity_id uuid not null,
    object_type text not null,
    object_id text not null,
    action text not null,
    data jsonb not null default '{}',
    created_at timestamptz not null default now(),
    primary key (project_id, activity_id)
);
create index activity_log_object on activity_log (project_id, object_id, created_at desc);
