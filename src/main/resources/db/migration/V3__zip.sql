-- The archive job: per job and folder, how its last attempt went. A folder whose last attempt
-- failed is zipped again whatever its content.
CREATE TABLE zip_state (
    job             TEXT    NOT NULL,
    folder          TEXT    NOT NULL,
    last_attempt_at INTEGER NOT NULL,
    last_success_at INTEGER,
    failed          INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    error           TEXT,
    snapshot        TEXT,
    manifest_sha256 TEXT,
    PRIMARY KEY (job, folder)
) WITHOUT ROWID;
