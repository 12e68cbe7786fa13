-- Validations per redeemed object (campaign, tier, code) and day in the project's time zone.
-- Counted in each server's memory and added here every few seconds: no write per validation.
create table validation_stats (
    project_id uuid not null references project (project_id) on delete cascade,
    object_id text not null,
    day date not null,
    succeeded bigint not null default 0,
    failed bigint not null default 0,
    primary key (project_id, object_id, day)
);
