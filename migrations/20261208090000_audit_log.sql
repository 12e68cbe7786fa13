-- The audit log of admin writes: which credential changed which object, when, and the object as
-- its GET answered just before and just after the write. Written by the API's audit layer after
-- a write succeeded; read through GET /v1/audit-log. Entries go with their project.
create table audit_entry (
    project_id uuid not null references project (project_id) on delete cascade,
    entry_id uuid not null,
    -- insertion order: the listing's order and cursor (time alone can tie)
    seq bigint generated always as identity,
    created_at timestamptz not null default now(),
    request_id text,
    credential_type text not null,
    credential_id text not null,
    method text not null,
    path text not null,
    action text not null,
    object_type text not null,
    -- the object's id as its GET answers it (`camp_…`, `v_…`), and the path's key when it differs
    -- (a code, a source id, a name)
    object_id text,
    object_key text,
    changed_fields text[] not null default '{}',
    before jsonb,
    after jsonb,
    primary key (project_id, entry_id)
);
create index audit_entry_by_time on audit_entry (project_id, seq desc);
create index audit_entry_by_object on audit_entry (project_id, object_id, seq desc);
create index audit_entry_by_key on audit_entry (project_id, object_key, seq desc) where object_key is not null;
