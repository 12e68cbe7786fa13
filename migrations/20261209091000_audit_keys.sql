-- An audit entry's key is the object's own (a code as created, a campaign's name, a source id),
-- matched without regard to case: codes are case-insensitive unless a project says otherwise,
-- and a path may spell a key differently from the object.
update audit_entry set object_key = coalesce(after->>'code', before->>'code', object_key)
 where object_type = 'voucher';
update audit_entry set object_key = coalesce(after->>'name', before->>'name', object_key)
 where object_type = 'campaign';
update audit_entry set object_key = coalesce(after->>'source_id', before->>'source_id', object_key)
 where object_type in ('customer', 'product', 'sku');
drop index audit_entry_by_key;
create index audit_entry_by_key on audit_entry (project_id, lower(object_key), seq desc) where object_key is not null;
