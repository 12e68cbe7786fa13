-- Code-guessing lock-out (our extension). A project's `lockout` setting ({failures,
-- window_minutes, block_minutes}; null: off) blocks a shopper — as the request names the
-- customer, and the IP — after that many checkout attempts naming unknown codes within one
-- window. Blocks are listed and lifted through GET/DELETE /v1/blocks.
alter table project add column lockout jsonb;

-- failed attempts per subject (`customer:<id or source id>`, `ip:<address>`) and fixed window
create table lockout_failure (
    project_id uuid not null references project (project_id) on delete cascade,
    subject text not null,
    window_start timestamptz not null,
    failures integer not null,
    primary key (project_id, subject, window_start)
);

-- one block per subject: re-blocking replaces it; an expired one stays listed until lifted
create table lockout_block (
    project_id uuid not null references project (project_id) on delete cascade,
    block_id uuid not null,
    subject text not null,
    failures integer not null,
    created_at timestamptz not null default now(),
    -- null: until lifted
    until timestamptz,
    primary key (project_id, block_id)
);
create unique index lockout_block_subject on lockout_block (project_id, subject);
