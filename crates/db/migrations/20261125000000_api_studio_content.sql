-- Studio tooling of the API: editions declared with their film before their master exists,
-- the content this API serves per edition, and an audit row per master upload.

-- Editions declared at film registration (price) whose master is not uploaded yet; an edition
-- goes on chain (registerEdition) with its first master. Kept afterwards as the declaration.
CREATE TABLE api_declared_editions (
    film_id      BIGINT      NOT NULL,
    quality      SMALLINT    NOT NULL CHECK (quality BETWEEN 0 AND 2),
    price_cents  BIGINT      NOT NULL CHECK (price_cents > 0),
    declared_by  TEXT        NOT NULL,                -- lower-case 0x address of the caller
    declared_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (film_id, quality)
);

-- The encrypted file served for each edition (the latest master whose hash went on chain).
CREATE TABLE api_edition_content (
    film_id        BIGINT      NOT NULL,
    quality        SMALLINT    NOT NULL CHECK (quality BETWEEN 0 AND 2),
    master_hash    TEXT        NOT NULL,              -- 0x SHA-256 of the plaintext master
    master_size    BIGINT      NOT NULL CHECK (master_size >= 0),
    blob_hash      TEXT        NOT NULL,              -- BLAKE3 of the encrypted file (64 hex)
    encrypted_size BIGINT      NOT NULL CHECK (encrypted_size > 0),
    tx_hash        TEXT,                              -- the registry transaction, if one was needed
    uploaded_by    TEXT        NOT NULL,
    uploaded_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (film_id, quality)
);

-- Every master upload and how it ended (audit trail).
CREATE TABLE api_master_uploads (
    upload_id      UUID        PRIMARY KEY,
    film_id        BIGINT      NOT NULL,
    quality        SMALLINT    NOT NULL,
    uploaded_by    TEXT        NOT NULL,
    declared_size  BIGINT      NOT NULL,
    started_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at    TIMESTAMPTZ,
    outcome        TEXT        NOT NULL DEFAULT 'running'
                   CHECK (outcome IN ('running', 'published', 'failed')),
    master_hash    TEXT,
    blob_hash      TEXT,
    tx_hash        TEXT,
    detail         TEXT
);
CREATE INDEX api_master_uploads_edition ON api_master_uploads (film_id, quality, started_at);
