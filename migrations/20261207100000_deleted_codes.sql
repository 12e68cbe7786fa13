-- A code deleted for good leaves a row in the activity log (its campaign, when it was created
-- and when it left), so campaign summaries still count it as created and deleted.
create index activity_log_deleted_codes on activity_log (project_id, (data ->> 'campaign_id'))
    where object_type = 'voucher' and action = 'deleted';
