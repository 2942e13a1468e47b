-- A payment link is part of its intent's row: minting writes one row, not two.
-- The page finds the intent by the SHA-256 of the link token (unique), and the
-- used-once claim sets link_claimed_at / link_session_hash on that row. Existing
-- links move over; payment_links goes.

ALTER TABLE payment_intents
  ADD COLUMN link_token_hash   bytea,
  ADD COLUMN link_claimed_at   timestamptz,
  ADD COLUMN link_session_hash bytea;

UPDATE payment_intents i
   SET link_token_hash = l.token_hash, link_claimed_at = l.claimed_at, link_session_hash = l.session_hash
  FROM payment_links l
 WHERE l.tenant_id = i.tenant_id AND l.payment_intent_id = i.id;

-- Every intent was minted with its link, so none is left without one.
ALTER TABLE payment_intents ALTER COLUMN link_token_hash SET NOT NULL;
CREATE UNIQUE INDEX payment_intents_link_token ON payment_intents (link_token_hash);

DROP TABLE payment_links;
