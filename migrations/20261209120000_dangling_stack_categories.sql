-- Like 20261209090000 for promotion stacks: a stack naming a deleted category could no longer be
-- updated. Deleting a category now clears it from stacks too; this clears the ones left behind.
update promotion_stack s set doc = doc - 'category_id'
where s.doc->>'category_id' is not null
  and not exists (select 1 from category k where k.project_id = s.project_id
                  and 'cat_' || replace(k.category_id::text, '-', '') = lower(s.doc->>'category_id'));
