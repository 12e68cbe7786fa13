-- A deleted category used to stay named by the campaigns, tiers and codes that used it, and
-- every later update of them was refused ("Cannot find category"). Deleting a category now
-- clears those references; this clears the ones left behind before.
update campaign c set category_id = null, doc = doc - 'category_id'
where c.category_id is not null
  and not exists (select 1 from category k where k.project_id = c.project_id and k.category_id = c.category_id);

update campaign c set doc = doc #- '{voucher,category_id}'
where c.doc->'voucher' ? 'category_id'
  and not exists (select 1 from category k where k.project_id = c.project_id
                  and 'cat_' || replace(k.category_id::text, '-', '') = lower(c.doc->'voucher'->>'category_id'));

update promotion_tier t set doc = doc - 'category_id'
where t.doc ? 'category_id'
  and not exists (select 1 from category k where k.project_id = t.project_id
                  and 'cat_' || replace(k.category_id::text, '-', '') = lower(t.doc->>'category_id'));

update voucher v set doc = doc - 'category_id'
where v.doc ? 'category_id'
  and not exists (select 1 from category k where k.project_id = v.project_id
                  and 'cat_' || replace(k.category_id::text, '-', '') = lower(v.doc->>'category_id'));
