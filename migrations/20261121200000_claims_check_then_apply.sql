-- Claims are checked, all of them under their row locks, before any is applied: a claim over
-- its limit leaves every counter untouched, so the caller records the failure in the same
-- transaction without a savepoint. Lock waits are bounded (a stuck holder gives a retryable
-- error, never an endless queue).
create or replace function apply_counter_claims(
    p_project uuid, p_keys text[], p_deltas bigint[], p_limits bigint[], p_session text
) returns integer language plpgsql as $$
declare
    n integer := coalesce(array_length(p_keys, 1), 0);
    current_value bigint;
    reserved bigint;
begin
    perform set_config('lock_timeout', '5s', true);
    for i in 1 .. n loop
        continue when p_limits[i] is null;
        -- a first counter row must exist before it can be locked
        insert into counter (project_id, counter_key, value) values (p_project, p_keys[i], 0)
        on conflict do nothing;
        select value into current_value from counter
        where project_id = p_project and counter_key = p_keys[i] for update;
        -- summed after the lock is held, so every reservation committed before it counts
        select coalesce(sum(amount), 0) into reserved from session_reservation
        where project_id = p_project and counter_key = p_keys[i] and expires_at > now()
          and session_key is distinct from p_session;
        if current_value + p_deltas[i] + reserved > p_limits[i] then
            return i;
        end if;
    end loop;
    for i in 1 .. n loop
        insert into counter as c (project_id, counter_key, value) values (p_project, p_keys[i], p_deltas[i])
        on conflict (project_id, counter_key) do update set value = c.value + excluded.value, updated_at = now();
    end loop;
    if p_session is not null then
        delete from session_reservation where project_id = p_project and session_key = p_session;
    end if;
    return 0;
end;
$$;
