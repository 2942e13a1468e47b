-- Keys paylink derives once and keeps, sealed under DATA_ENCRYPTION_KEY: they must outlive a
-- rotation of that key. `card_fingerprint` keys the HMAC that makes the same card saved twice
-- one card; it was derived from DATA_ENCRYPTION_KEY, and the first start after this migration
-- keeps the value derived from the key of the day, so existing fingerprints stay valid.
CREATE TABLE kept_keys (
  name          text PRIMARY KEY,
  value_sealed  text NOT NULL,
  created_at    timestamptz NOT NULL
);
