-- Real card processors (SPEC "Card processors").
-- What the processor said about a failed payment, for the tenant (never shown to the shopper).
ALTER TABLE payment_intents ADD COLUMN processor_code text;
ALTER TABLE payment_intents ADD COLUMN processor_message text;
-- The hash of the single-use state value a 3-D Secure redirect returns with (GET|POST /pay/{token}/return).
ALTER TABLE payment_intents ADD COLUMN return_state_hash bytea;
-- The form a POST 3-D Secure redirect posts (url and fields as JSON), sealed: a processor's URL or fields may carry its secrets.
ALTER TABLE payment_intents ADD COLUMN action_redirect text;
-- Intents waiting on a processor, for recovery and for the processor's webhooks (by its own id).
CREATE INDEX payment_intents_waiting ON payment_intents (updated_at) WHERE status IN ('processing', 'requires_action', 'awaiting_processor');
CREATE INDEX payment_intents_processor_ref ON payment_intents (tenant_id, account_id, processor_reference) WHERE processor_reference IS NOT NULL;

-- The processor's customer a saved card belongs to (a Stripe Customer), where it has one.
ALTER TABLE saved_cards ADD COLUMN customer_ref text;

-- Each processor webhook event is applied once, by the processor's own event id.
CREATE TABLE processor_events (
  tenant_id    text NOT NULL,
  account_id   text NOT NULL,
  event_id     text NOT NULL,
  received_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, account_id, event_id)
);

-- The sandbox's refunds, on its own side of the wire (one per refund key).
CREATE TABLE sandbox_refunds (
  refund_key    text PRIMARY KEY,
  charge_key    text NOT NULL,
  reference     text NOT NULL UNIQUE,
  amount_minor  bigint NOT NULL,
  status        text NOT NULL CHECK (status IN ('succeeded', 'failed')),
  created_at    timestamptz NOT NULL
);

-- An account is found by its id alone by the operator's CLI and by its processor's webhooks
-- (POST /processor-webhooks/{card_processing_id}); ids are random, so unique across tenants.
CREATE UNIQUE INDEX card_processing_accounts_id ON card_processing_accounts (id);
