-- Deleting a project (or a redemption with it) takes its rollbacks along.
alter table redemption_rollback drop constraint redemption_rollback_project_id_redemption_id_fkey;
alter table redemption_rollback add foreign key (project_id, redemption_id)
    references redemption (project_id, redemption_id) on delete cascade;
