-- Tenants, OAuth clients and signing keys, end users, card-processing accounts,
-- payment intents with their links, and idempotency keys.
-- Every tenant-owned table leads with tenant_id, so the schema can be distributed by tenant.

CREATE TABLE tenants (
  id               text PRIMARY KEY,
  name             text NOT NULL,
  allowed_origins  text[] NOT NULL,
  allow_top_level  boolean NOT NULL DEFAULT false,
  created_at       timestamptz NOT NULL
);

-- tenant_id is NULL for operator (admin) clients.
CREATE TABLE oauth_clients (
  id           text PRIMARY KEY,
  tenant_id    text REFERENCES tenants (id),
  secret_hash  text NOT NULL,
  scopes       text[] NOT NULL,
  created_at   timestamptz NOT NULL,
  revoked_at   timestamptz
);
CREATE INDEX oauth_clients_tenant ON oauth_clients (tenant_id);

-- Asymmetric keys that sign access tokens; the private half is encrypted with DATA_ENCRYPTION_KEY.
CREATE TABLE signing_keys (
  kid                    text PRIMARY KEY,
  alg                    text NOT NULL,
  public_jwk             jsonb NOT NULL,
  private_jwk_encrypted  text NOT NULL,
  created_at             timestamptz NOT NULL,
  retired_at             timestamptz
);

CREATE TABLE end_users (
  tenant_id    text NOT NULL REFERENCES tenants (id),
  id           text NOT NULL,
  external_id  text,
  email        text,
  name         text,
  created_at   timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX end_users_external_id ON end_users (tenant_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX end_users_created ON end_users (tenant_id, created_at DESC, id DESC);

CREATE TABLE card_processing_accounts (
  tenant_id          text NOT NULL REFERENCES tenants (id),
  id                 text NOT NULL,
  name               text NOT NULL,
  processor          text NOT NULL,
  currencies         text[] NOT NULL,
  priority           integer NOT NULL DEFAULT 100,
  config_encrypted   text,
  created_at         timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

-- A user's enrolment in an account: 'pending' until approved (sandbox accounts approve at once).
CREATE TABLE card_processing_enrolments (
  tenant_id     text NOT NULL,
  user_id       text NOT NULL,
  account_id    text NOT NULL,
  status        text NOT NULL CHECK (status IN ('pending', 'approved')),
  approved_at   timestamptz,
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, user_id, account_id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES end_users (tenant_id, id),
  FOREIGN KEY (tenant_id, account_id) REFERENCES card_processing_accounts (tenant_id, id)
);

CREATE TABLE payment_intents (
  tenant_id        text NOT NULL,
  id               text NOT NULL,
  user_id          text NOT NULL,
  account_id       text NOT NULL,
  amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
  currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  status           text NOT NULL CHECK (status IN ('pending', 'processing', 'succeeded', 'failed')),
  failure_code     text,
  failure_message  text,
  card_brand       text,
  card_last4       text,
  card_exp_month   integer,
  card_exp_year    integer,
  saved_card_id    text,
  expires_at       timestamptz NOT NULL,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES end_users (tenant_id, id),
  FOREIGN KEY (tenant_id, account_id) REFERENCES card_processing_accounts (tenant_id, id)
);
CREATE INDEX payment_intents_created ON payment_intents (tenant_id, created_at DESC, id DESC);
CREATE INDEX payment_intents_user ON payment_intents (tenant_id, user_id, created_at DESC, id DESC);
CREATE INDEX payment_intents_pending_expiry ON payment_intents (expires_at) WHERE status = 'pending';

-- The one-time link of an intent. Only the SHA-256 of its token is kept.
CREATE TABLE payment_links (
  tenant_id          text NOT NULL,
  payment_intent_id  text NOT NULL,
  token_hash         bytea NOT NULL UNIQUE,
  claimed_at         timestamptz,
  session_hash       bytea,
  created_at         timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, payment_intent_id),
  FOREIGN KEY (tenant_id, payment_intent_id) REFERENCES payment_intents (tenant_id, id)
);

-- Idempotency-Key answers, kept 24 hours.
CREATE TABLE idempotency_keys (
  tenant_id      text NOT NULL,
  key            text NOT NULL,
  request_hash   text NOT NULL,
  status_code    integer,
  response_sealed text,   -- the answer replayed for the key, sealed: it holds the pay_url
  created_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
