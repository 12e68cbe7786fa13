-- Exports (POST /v1/exports): the request, its state, and the CSV in chunks, so any server can
-- stream a download and an export whose server died starts over cleanly on another.
create table export (
    project_id uuid not null references project (project_id) on delete cascade,
    export_id uuid not null,
    exported_object text not null,
    parameters jsonb not null,
    status text not null default 'SCHEDULED' check (status in ('SCHEDULED', 'IN_PROGRESS', 'DONE', 'ERROR')),
    channel text not null default 'API',
    -- signs this export's download tokens (a token names the project, the export and an expiry)
    secret bytea not null,
    rows_written bigint not null default 0,
    error jsonb,
    locked_until timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    completed_at timestamptz,
    primary key (project_id, export_id)
);
create index export_due on export (created_at) where status in ('SCHEDULED', 'IN_PROGRESS');
create index export_by_project on export (project_id, created_at desc);

create table export_chunk (
    project_id uuid not null,
    export_id uuid not null,
    seq integer not null,
    data bytea not null,
    primary key (project_id, export_id, seq),
    foreign key (project_id, export_id) references export (project_id, export_id) on delete cascade
);
