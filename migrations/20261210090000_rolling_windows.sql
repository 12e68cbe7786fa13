-- Rolling windows ("at most 3 in any 24 h"): a counter whose key ends in `|roll:<seconds>` is
-- not a running total but the sum of its events within the window. Each claim is an event at
-- the redemption's own time; a rollback adds the negated event at that same time, so every
-- window that held the redemption stops counting it and no other window changes.
create table counter_event (
    project_id uuid not null,
    counter_key text not null,
    at timestamptz not null,
    amount bigint not null
);
create index counter_event_window on counter_event (project_id, counter_key, at);

-- The window of a rolling counter key, or null for any other counter.
create function counter_window(p_key text) returns interval language sql immutable as $$
    select make_interval(secs => (substring(p_key from '\|roll:(\d{1,9})$'))::double precision)
$$;

-- What a counter holds at `p_at`: its value, or for a rolling counter the sum of its events in
-- every window that holds `p_at` (both sides: an event stamped later by another instance's
-- clock still counts against this one).
create function counter_value_at(p_project uuid, p_key text, p_value bigint, p_at timestamptz)
returns bigint language plpgsql stable as $$
declare
    w interval := counter_window(p_key);
begin
    if w is null then
        return p_value;
    end if;
    return coalesce((select sum(amount) from counter_event
                     where project_id = p_project and counter_key = p_key
                       and at > p_at - w and at < p_at + w), 0);
end;
$$;

-- The same contract as before, with the time the claims are made at (the redemption's own).
create or replace function apply_counter_claims(
    p_project uuid, p_keys text[], p_deltas bigint[], p_limits bigint[], p_session text, p_at timestamptz
) returns integer language plpgsql as $$
declare
    n integer := coalesce(array_length(p_keys, 1), 0);
    current_value bigint;
    reserved bigint;
    w interval;
begin
    for i in 1 .. n loop
        continue when p_limits[i] is null;
        select value into current_value from counter
        where project_id = p_project and counter_key = p_keys[i] for update;
        if not found then
            -- a first counter row must exist before it can be locked
            insert into counter (project_id, counter_key, value) values (p_project, p_keys[i], 0)
            on conflict do nothing;
            select value into current_value from counter
            where project_id = p_project and counter_key = p_keys[i] for update;
        end if;
        -- read while the row lock is held: every event committed before it counts
        if strpos(p_keys[i], '|roll:') > 0 then
            current_value := counter_value_at(p_project, p_keys[i], current_value, p_at);
        end if;
        -- summed after the lock is held, so every reservation committed before it counts
        select coalesce(sum(amount), 0) into reserved from session_reservation
        where project_id = p_project and counter_key = p_keys[i] and expires_at > now()
          and session_key is distinct from p_session;
        if current_value + p_deltas[i] + reserved > p_limits[i] then
            return i;
        end if;
    end loop;
    for i in 1 .. n loop
        update counter set value = value + p_deltas[i], updated_at = now()
        where project_id = p_project and counter_key = p_keys[i];
        if not found then
            insert into counter as c (project_id, counter_key, value) values (p_project, p_keys[i], p_deltas[i])
            on conflict (project_id, counter_key) do update set value = c.value + excluded.value, updated_at = now();
        end if;
        w := case when strpos(p_keys[i], '|roll:') > 0 then counter_window(p_keys[i]) end;
        if w is not null then
            insert into counter_event (project_id, counter_key, at, amount)
            values (p_project, p_keys[i], p_at, p_deltas[i]);
            -- events two windows old can no longer count in any window a check reads
            delete from counter_event
            where project_id = p_project and counter_key = p_keys[i] and at < p_at - 2 * w;
        end if;
    end loop;
    if p_session is not null then
        delete from session_reservation where project_id = p_project and session_key = p_session;
    end if;
    return 0;
end;
$$;

-- The five-argument form (statements prepared before this migration) claims at now().
create or replace function apply_counter_claims(
    p_project uuid, p_keys text[], p_deltas bigint[], p_limits bigint[], p_session text
) returns integer language sql as $$
    select apply_counter_claims(p_project, p_keys, p_deltas, p_limits, p_session, now())
$$;

create or replace function reserve_counter_claims(
    p_project uuid, p_session text, p_keys text[], p_amounts bigint[], p_limits bigint[], p_expires timestamptz
) returns integer language plpgsql as $$
declare
    current_value bigint;
    reserved bigint;
begin
    delete from session_reservation where project_id = p_project and session_key = p_session;
    for i in 1 .. coalesce(array_length(p_keys, 1), 0) loop
        insert into counter (project_id, counter_key, value) values (p_project, p_keys[i], 0)
        on conflict do nothing;
        select value into current_value from counter
        where project_id = p_project and counter_key = p_keys[i] for update;
        if strpos(p_keys[i], '|roll:') > 0 then
            current_value := counter_value_at(p_project, p_keys[i], current_value, now());
        end if;
        -- expired reservations go as soon as someone looks at their counter: no cron needed
        delete from session_reservation
        where project_id = p_project and counter_key = p_keys[i] and expires_at <= now();
        select coalesce(sum(amount), 0) into reserved from session_reservation
        where project_id = p_project and counter_key = p_keys[i];
        if current_value + p_amounts[i] + reserved > p_limits[i] then
            return i;
        end if;
        insert into session_reservation (project_id, session_key, counter_key, amount, expires_at)
        values (p_project, p_session, p_keys[i], p_amounts[i], p_expires);
        update counter set reserved_until = greatest(reserved_until, p_expires)
        where project_id = p_project and counter_key = p_keys[i];
    end loop;
    return 0;
end;
$$;

-- The project's events go with it.
create or replace function delete_project_ledger() returns trigger language plpgsql as $$
begin
    delete from redemption where project_id = old.project_id;
    delete from order_record where project_id = old.project_id;
    delete from redemption_stats where project_id = old.project_id;
    delete from redemption_stats_delta where project_id = old.project_id;
    delete from redemption_series where project_id = old.project_id;
    delete from counter_event where project_id = old.project_id;
    return old;
end;
$$;
