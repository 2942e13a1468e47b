-- The tenant portal (SPEC "Tenant portal").
--
-- A portal link and the session it is exchanged for are one row: the link's token is
-- exchanged once (the conditional update that sets `exchanged_at` and `secret_hash` wins
-- once), and the session lives until the link's `expires_at`. Only SHA-256 hashes of the
-- token and of the session secret are kept. `client_id` is the OAuth client whose token
-- asked for the link (its revocation ends the session); NULL when the operator made it with
-- `paylink portal link`. `scopes` are that token's tenant scopes, frozen at the link's making.
CREATE TABLE portal_sessions (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  id            text NOT NULL,
  link_hash     bytea NOT NULL,
  client_id     text REFERENCES oauth_clients (id),
  scopes        text[] NOT NULL,
  expires_at    timestamptz NOT NULL,
  created_at    timestamptz NOT NULL,
  exchanged_at  timestamptz,
  secret_hash   bytea,
  PRIMARY KEY (tenant_id, id)
);
-- The exchange finds the link by its token alone, and a request its session by its secret alone.
CREATE UNIQUE INDEX portal_sessions_link ON portal_sessions (link_hash);
CREATE UNIQUE INDEX portal_sessions_secret ON portal_sessions (secret_hash) WHERE secret_hash IS NOT NULL;

-- The moments of a payment's timeline that its row did not keep: each is set by the
-- transition's own conditional update (no extra statement): `start` (confirmed),
-- `require_action` (3-D Secure asked), `succeed` / `fail` / `expire` (finished).
-- The page's opening is `link_claimed_at` (0004). Older rows keep them NULL, but a final
-- one's finish is its last update as far as anyone can tell.
ALTER TABLE payment_intents
  ADD COLUMN confirmed_at        timestamptz,
  ADD COLUMN action_required_at  timestamptz,
  ADD COLUMN finished_at         timestamptz;
UPDATE payment_intents SET finished_at = updated_at WHERE status IN ('succeeded', 'failed');
