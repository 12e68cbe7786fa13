-- Redemption events are enqueued by the redemption statement itself (see `ledger::record`):
-- a statement trigger with a transition table cost 4–10% of redemption throughput even for
-- projects without webhook endpoints; the statement skips it with one index probe.
drop trigger redemption_webhooks on redemption;
drop function webhook_redemption_inserted();
