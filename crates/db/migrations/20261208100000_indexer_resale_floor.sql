-- Contracts v2: each edition's resale floor (`ResaleFloorChanged`), the lowest price a licence of the
-- edition can be listed, repriced or sold at on the market. 0 = none (the market's own minimum only).
-- Idempotent (IF NOT EXISTS): a migration may be applied again (see check_migrations).
ALTER TABLE editions ADD COLUMN IF NOT EXISTS resale_floor_cents BIGINT NOT NULL DEFAULT 0 CHECK (resale_floor_cents >= 0);
