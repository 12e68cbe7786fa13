-- Per-project rate limits; null means the service's configured default.
alter table project
    add column rate_limit_server_per_second integer check (rate_limit_server_per_second > 0),
    add column rate_limit_client_ip_per_second integer check (rate_limit_client_ip_per_second > 0),
    add column rate_limit_unknown_codes_per_minute integer check (rate_limit_unknown_codes_per_minute > 0);
