-- Refunds (SPEC "Refunds"). An intent keeps two running totals: what refunds have taken
-- back (`amount_refunded_minor`, succeeded ones) and what they hold (`amount_reserved_minor`,
-- pending and succeeded ones): a refund reserves its amount under the intent's row lock
-- before the processor is called, and the reserve never passes the intent's amount.
ALTER TABLE payment_intents ADD COLUMN amount_refunded_minor bigint NOT NULL DEFAULT 0;
ALTER TABLE payment_intents ADD COLUMN amount_reserved_minor bigint NOT NULL DEFAULT 0;
ALTER TABLE payment_intents ADD CONSTRAINT payment_intents_refunds_within_amount
  CHECK (amount_refunded_minor >= 0 AND amount_refunded_minor <= amount_reserved_minor AND amount_reserved_minor <= amount_minor);

CREATE TABLE refunds (
  tenant_id            text NOT NULL REFERENCES tenants (id),
  id                   text NOT NULL,
  payment_intent_id    text NOT NULL,
  account_id           text NOT NULL,
  amount_minor         bigint NOT NULL CHECK (amount_minor > 0),
  currency             text NOT NULL,
  status               text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  reason               text CHECK (reason IN ('requested_by_customer', 'duplicate', 'fraudulent')),
  failure_code         text,
  processor_reference  text,
  processor_code       text,
  processor_message    text,
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX refunds_intent ON refunds (tenant_id, payment_intent_id, created_at DESC, id DESC);
CREATE INDEX refunds_pending ON refunds (updated_at) WHERE status = 'pending';

-- A refund's event: several refunds of one intent each have theirs, so the one-event-per-
-- outcome rule is per intent for payment events and per refund for refund events.
ALTER TABLE events ADD COLUMN refund_id text;
DROP INDEX events_one_per_outcome;
CREATE UNIQUE INDEX events_one_per_outcome ON events (tenant_id, payment_intent_id, type) WHERE payment_intent_id IS NOT NULL AND refund_id IS NULL;
CREATE UNIQUE INDEX events_one_per_refund_outcome ON events (tenant_id, refund_id, type) WHERE refund_id IS NOT NULL;
