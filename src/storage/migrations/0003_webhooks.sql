-- Webhooks: endpoints, the event log, the transactional outbox of deliveries, and every attempt.

CREATE TABLE webhook_endpoints (
  tenant_id                  text NOT NULL REFERENCES tenants (id),
  id                         text NOT NULL,
  url                        text NOT NULL,
  description                text,
  status                     text NOT NULL CHECK (status IN ('enabled', 'disabled')),
  disabled_reason            text,
  secret_encrypted           text NOT NULL,
  previous_secret_encrypted  text,
  previous_secret_expires_at timestamptz,
  failing_since              timestamptz,
  created_at                 timestamptz NOT NULL,
  updated_at                 timestamptz NOT NULL,
  deleted_at                 timestamptz,
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE events (
  tenant_id          text NOT NULL REFERENCES tenants (id),
  id                 text NOT NULL,
  type               text NOT NULL,
  payment_intent_id  text,
  body               text NOT NULL,   -- the exact JSON delivered, so every retry signs the same bytes
  created_at         timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX events_created ON events (tenant_id, created_at DESC, id DESC);
CREATE UNIQUE INDEX events_one_per_outcome ON events (tenant_id, payment_intent_id, type) WHERE payment_intent_id IS NOT NULL;

-- One row per (event, endpoint): the outbox. Workers lease due rows with FOR UPDATE SKIP LOCKED.
CREATE TABLE deliveries (
  tenant_id        text NOT NULL,
  id               text NOT NULL,
  event_id         text NOT NULL,
  endpoint_id      text NOT NULL,
  status           text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL,
  leased_until     timestamptz,
  last_status_code integer,
  last_error       text,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, event_id) REFERENCES events (tenant_id, id),
  FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_event ON deliveries (tenant_id, event_id);

CREATE TABLE delivery_attempts (
  tenant_id     text NOT NULL,
  id            text NOT NULL,
  delivery_id   text NOT NULL,
  event_id      text NOT NULL,
  endpoint_id   text NOT NULL,
  attempt       integer NOT NULL,
  attempted_at  timestamptz NOT NULL,
  status_code   integer,
  duration_ms   integer NOT NULL,
  error         text,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX delivery_attempts_event ON delivery_attempts (tenant_id, event_id, attempted_at);
