-- A mint writes one row, and every check it makes on the way is paid by every mint. The
-- two foreign keys of payment_intents (to end_users and card_processing_accounts) checked
-- again what the mint's own statement has just proved: it inserts only through a join on
-- an approved enrolment of that user at that account, and the enrolment's own foreign keys
-- hold both. Neither users nor accounts are ever deleted. Each check also took a KEY SHARE
-- lock on the user's and the account's rows, so that concurrent mints of one tenant queued
-- on one account row and made a multixact of it (about a fifth of a mint's time in
-- PostgreSQL, measured with pgbench at 10 connections).
ALTER TABLE payment_intents DROP CONSTRAINT IF EXISTS payment_intents_tenant_id_user_id_fkey;
ALTER TABLE payment_intents DROP CONSTRAINT IF EXISTS payment_intents_tenant_id_account_id_fkey;
