-- Parity sets, one per content hash, and what the scan still owes them.
CREATE TABLE parity (
    sha256          BLOB    PRIMARY KEY,      -- 32 bytes: the content the set protects
    file_size       INTEGER NOT NULL,
    bytes           INTEGER NOT NULL,         -- size of the set on disk
    block_size      INTEGER NOT NULL,
    recovery_blocks INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    trashed_at      INTEGER,                  -- null: in by_hash/; else in _trash/<trash_day>/
    trash_day       TEXT,
    -- Set when the last file of this content may have gone (deleted, modified): the scan moves the
    -- set to trash once no live file has the content, and, for a modification, once the set of
    -- the new content (release_after) exists.
    release_due     INTEGER NOT NULL DEFAULT 0,
    release_after   BLOB
) WITHOUT ROWID;
CREATE INDEX parity_release ON parity(release_due) WHERE release_due = 1;
CREATE INDEX parity_trash ON parity(trash_day) WHERE trashed_at IS NOT NULL;

-- 1: this file's content may lack a parity set; the scan creates, restores or adopts one.
ALTER TABLE files ADD COLUMN parity_due INTEGER NOT NULL DEFAULT 0;
CREATE INDEX files_parity_due ON files(sha256) WHERE parity_due = 1;
-- For the verification sample: never verified first, then oldest.
CREATE INDEX files_verify ON files(root_id, last_verified) WHERE status = 'ok';

-- The parity settings a root was last scanned with ("min..max"), null when parity is off:
-- a change marks the root's files for a parity check.
ALTER TABLE roots ADD COLUMN parity_policy TEXT;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT
);
