-- Checkout: definitions cache versioning, counter claims and session reservations.

-- Every write to something the engine compiles bumps the project's definitions version, so a
-- server's in-memory cache of compiled definitions knows it is stale from the authentication
-- read alone (no handler can forget to invalidate).
alter table project add column definitions_version bigint not null default 0;

create or replace function project_set_updated_at() returns trigger language plpgsql as $$
begin
    -- a definitions bump alone is not an update of the project's settings
    if row(new.name, new.description, new.timezone, new.currency, new.case_sensitive_codes,
           new.client_trusted_domains, new.client_redeem_enabled, new.stacking_rules, new.stacking_rules_id)
       is distinct from
       row(old.name, old.description, old.timezone, old.currency, old.case_sensitive_codes,
           old.client_trusted_domains, old.client_redeem_enabled, old.stacking_rules, old.stacking_rules_id) then
        new.updated_at = now();
    end if;
    return new;
end;
$$;
drop trigger project_updated_at on project;
create trigger project_updated_at before update on project for each row execute function project_set_updated_at();

create function bump_definitions_version() returns trigger language plpgsql as $$
begin
    update project set definitions_version = definitions_version + 1
    where project_id = (case when tg_op = 'DELETE' then old.project_id else new.project_id end);
    return null;
end;
$$;

create function project_definitions_changed() returns trigger language plpgsql as $$
begin
    if new.stacking_rules is distinct from old.stacking_rules or new.timezone is distinct from old.timezone then
        new.definitions_version = old.definitions_version + 1;
    end if;
    return new;
end;
$$;
create trigger project_definitions_changed before update on project for each row
    execute function project_definitions_changed();

create trigger campaign_definitions after insert or update or delete on campaign
    for each row execute function bump_definitions_version();
create trigger promotion_tier_definitions after insert or update or delete on promotion_tier
    for each row execute function bump_definitions_version();
create trigger promotion_stack_definitions after insert or update or delete on promotion_stack
    for each row execute function bump_definitions_version();
create trigger validation_rule_definitions after insert or update or delete on validation_rule
    for each row execute function bump_definitions_version();
create trigger validation_rule_assignment_definitions after insert or update or delete on validation_rule_assignment
    for each row execute function bump_definitions_version();
create trigger category_definitions after insert or update or delete on category
    for each row execute function bump_definitions_version();
create trigger product_collection_definitions after insert or update or delete on product_collection
    for each row execute function bump_definitions_version();
create trigger segment_definitions after insert or update or delete on segment
    for each row execute function bump_definitions_version();

-- The ledger's listing filters.
alter table redemption add column voucher_code text;
alter table redemption add column tracking_id text;
create index redemption_parent on redemption (project_id, parent_id) where parent_id is not null;
create index redemption_customer on redemption (project_id, customer_id, created_at desc);
create index voucher_holder on voucher (project_id, holder_id) where holder_id is not null;

-- Applies a redemption's counter claims in the given (sorted, so deadlock-free) order. Unlimited
-- claims just add. A limited claim adds only while value + delta + what other live sessions
-- reserve stays within the limit; the reservations are summed after the row lock is held, so
-- every reservation committed before it counts. Returns 0, or the 1-based position of the first
-- claim that would exceed its limit (the caller then rolls the whole transaction back). The
-- session's own reservations are consumed.
create function apply_counter_claims(
    p_project uuid, p_keys text[], p_deltas bigint[], p_limits bigint[], p_session text
) returns integer language plpgsql as $$
declare
    current_value bigint;
    reserved bigint;
begin
    for i in 1 .. coalesce(array_length(p_keys, 1), 0) loop
        if p_limits[i] is null then
            insert into counter as c (project_id, counter_key, value) values (p_project, p_keys[i], p_deltas[i])
            on conflict (project_id, counter_key) do update set value = c.value + excluded.value, updated_at = now();
            continue;
        end if;
        -- a first counter row must exist before it can be locked
        insert into counter (project_id, counter_key, value) values (p_project, p_keys[i], 0)
        on conflict do nothing;
        select value into current_value from counter
        where project_id = p_project and counter_key = p_keys[i] for update;
        select coalesce(sum(amount), 0) into reserved from session_reservation
        where project_id = p_project and counter_key = p_keys[i] and expires_at > now()
          and session_key is distinct from p_session;
        if current_value + p_deltas[i] + reserved > p_limits[i] then
            return i;
        end if;
        update counter set value = current_value + p_deltas[i], updated_at = now()
        where project_id = p_project and counter_key = p_keys[i];
    end loop;
    if p_session is not null then
        delete from session_reservation where project_id = p_project and session_key = p_session;
    end if;
    return 0;
end;
$$;

-- Replaces a session's reservations: one slot (or amount) of every limited counter, taken only
-- while value + live reservations + amount stays within the limit. Same lock order and return
-- convention as apply_counter_claims.
create function reserve_counter_claims(
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
    end loop;
    return 0;
end;
$$;
