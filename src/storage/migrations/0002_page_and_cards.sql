-- The hosted page and charging: saved cards, the processor reference on intents, and the
-- sandbox processor's own tables (its side of the wire, kept here for the built-in simulator).

ALTER TABLE payment_intents ADD COLUMN processor_reference text;
ALTER TABLE payment_intents ADD COLUMN challenge_id text;

-- A saved card: the processor's reusable token sealed with DATA_ENCRYPTION_KEY, what the
-- page shows, and a keyed fingerprint (HMAC of the number) so the same card saved twice is one card.
CREATE TABLE saved_cards (
  tenant_id        text NOT NULL,
  id               text NOT NULL,
  user_id          text NOT NULL,
  account_id       text NOT NULL,
  token_encrypted  text NOT NULL,
  fingerprint      text NOT NULL,
  brand            text NOT NULL,
  last4            text NOT NULL,
  exp_month        integer NOT NULL,
  exp_year         integer NOT NULL,
  created_at       timestamptz NOT NULL,
  deleted_at       timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES end_users (tenant_id, id),
  FOREIGN KEY (tenant_id, account_id) REFERENCES card_processing_accounts (tenant_id, id)
);
CREATE UNIQUE INDEX saved_cards_one_per_card ON saved_cards (tenant_id, user_id, account_id, fingerprint) WHERE deleted_at IS NULL;

CREATE TABLE sandbox_charges (
  idempotency_key  text PRIMARY KEY,
  reference        text NOT NULL UNIQUE,
  amount_minor     bigint NOT NULL,
  currency         text NOT NULL,
  status           text NOT NULL CHECK (status IN ('succeeded', 'failed', 'requires_authentication')),
  failure_code     text,
  saved_token      text,
  want_token       boolean NOT NULL,
  challenge_id     text,
  card_brand       text NOT NULL,
  card_last4       text NOT NULL,
  card_exp_month   integer NOT NULL,
  card_exp_year    integer NOT NULL,
  behaviour        text NOT NULL,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL
);

CREATE TABLE sandbox_vault (
  token       text PRIMARY KEY,
  brand       text NOT NULL,
  last4       text NOT NULL,
  exp_month   integer NOT NULL,
  exp_year    integer NOT NULL,
  behaviour   text NOT NULL,
  created_at  timestamptz NOT NULL
);

-- What confirm learnt that a 3-D Secure challenge must carry to the end: whether to save
-- the card and its keyed fingerprint (an HMAC, never the number).
ALTER TABLE payment_intents ADD COLUMN save_card boolean NOT NULL DEFAULT false;
ALTER TABLE payment_intents ADD COLUMN card_fingerprint text;
