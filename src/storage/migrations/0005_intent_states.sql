-- The payment state machine (src/domain/payments/state.ts) keeps its own states in
-- payment_intents.status. Waiting for 3-D Secure was `processing` with a challenge_id;
-- it is now `requires_action`. `awaiting_processor` is a processor that will say later.
-- The API still shows both as `processing`.

ALTER TABLE payment_intents DROP CONSTRAINT payment_intents_status_check;
ALTER TABLE payment_intents ADD CONSTRAINT payment_intents_status_check
  CHECK (status IN ('pending', 'processing', 'requires_action', 'awaiting_processor', 'succeeded', 'failed'));

UPDATE payment_intents SET status = 'requires_action' WHERE status = 'processing' AND challenge_id IS NOT NULL;
