-- The same contract as before, cheaper on the common path where the counter row exists: lock it
-- with a plain SELECT … FOR UPDATE and add with a plain UPDATE (an INSERT … ON CONFLICT only
-- when the row is missing; speculative insertion showed in the redemption profile).
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
        select value into current_value from counter
        where project_id = p_project and counter_key = p_keys[i] for update;
        if not found then
            -- a first counter row must exist before it can be locked
            insert into counter (project_id, counter_key, value) values (p_project, p_keys[i], 0)
            on conflict do nothing;
            select value into current_value from counter
            where project_id = p_project and counter_key = p_keys[i] for update;
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
    end loop;
    if p_session is not null then
        delete from session_reservation where project_id = p_project and session_key = p_session;
    end if;
    return 0;
end;
$$;
