-- qBittorrent payloads and rehome (SPEC §9). payload sync fills payloads and torrents from
-- qBittorrent and the catalog; rehome apply records every run and its steps.

-- One payload instance: the files under one torrent content path. payload_hash is null while
-- the instance is incomplete (a file without a hash, a root not scanned).
CREATE TABLE payloads (
    id           INTEGER PRIMARY KEY,
    root_path    TEXT    NOT NULL UNIQUE,       -- the content path, absolute
    kind         TEXT    NOT NULL CHECK (kind IN ('dir', 'file')),
    payload_hash BLOB,                          -- 32 bytes, null when incomplete
    status       TEXT    NOT NULL CHECK (status IN ('complete', 'incomplete')),
    reason       TEXT,                          -- why incomplete
    root_id      INTEGER,                       -- the custos root holding it, null when none
    files        INTEGER NOT NULL,
    bytes        INTEGER NOT NULL,
    synced_at    INTEGER NOT NULL
);
CREATE INDEX payloads_hash ON payloads(payload_hash);

CREATE TABLE torrents (
    hash         TEXT    PRIMARY KEY,           -- info-hash, lower-case hex
    name         TEXT    NOT NULL,
    save_path    TEXT    NOT NULL,
    content_path TEXT    NOT NULL,
    category     TEXT,
    tags         TEXT    NOT NULL,              -- JSON array
    state        TEXT    NOT NULL,
    progress     REAL    NOT NULL,
    size         INTEGER NOT NULL,
    payload_id   INTEGER REFERENCES payloads(id),
    synced_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX torrents_payload ON torrents(payload_id);

CREATE TABLE rehome_runs (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER,
    plan_file    TEXT,
    fingerprint  TEXT    NOT NULL,
    direction    TEXT    NOT NULL CHECK (direction IN ('demote', 'promote')),
    decision     TEXT    NOT NULL CHECK (decision IN ('REUSE', 'MOVE')),
    payload_hash TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    target       TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'rolled_back', 'rollback_failed')),
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    error        TEXT
);

-- Every step of an apply, in order, as it happened: the forward steps and the undo steps.
CREATE TABLE rehome_steps (
    id        INTEGER PRIMARY KEY,
    rehome_id INTEGER NOT NULL REFERENCES rehome_runs(id),
    seq       INTEGER NOT NULL,
    action    TEXT    NOT NULL,
    torrent   TEXT,
    path      TEXT,
    status    TEXT    NOT NULL CHECK (status IN ('done', 'failed', 'undone', 'skipped')),
    detail    TEXT,
    at        INTEGER NOT NULL
);
CREATE INDEX rehome_steps_run ON rehome_steps(rehome_id, seq);
