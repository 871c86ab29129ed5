-- The catalog: roots, files, runs and events.
-- Times are milliseconds since the epoch (UTC); mtime_ns is nanoseconds.
CREATE TABLE roots (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    path         TEXT    NOT NULL,
    last_scan_at INTEGER,
    last_scan_run INTEGER
);

CREATE TABLE files (
    id               INTEGER PRIMARY KEY,
    root_id          INTEGER NOT NULL REFERENCES roots(id),
    path             BLOB    NOT NULL,        -- relative path, raw bytes, '/'-separated
    size             INTEGER NOT NULL,
    mtime_ns         INTEGER NOT NULL,
    device           INTEGER NOT NULL,
    inode            INTEGER NOT NULL,
    sha256           BLOB,                    -- 32 bytes
    status           TEXT    NOT NULL CHECK (status IN ('ok', 'damaged', 'truncated', 'deleted')),
    first_seen       INTEGER NOT NULL,
    last_seen        INTEGER NOT NULL,
    last_verified    INTEGER,
    -- A modification found but not applied yet (guard held it back, or the run ended first):
    -- the new content's hash, kept so that the next run need not read the file again.
    pending_sha256   BLOB,
    pending_size     INTEGER,
    pending_mtime_ns INTEGER,
    pending_inode    INTEGER
);
CREATE UNIQUE INDEX files_live_path ON files(root_id, path) WHERE status <> 'deleted';
CREATE INDEX files_any_path ON files(root_id, path);
CREATE INDEX files_sha256 ON files(sha256) WHERE status <> 'deleted';
CREATE INDEX files_inode ON files(device, inode) WHERE status <> 'deleted';

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    command     TEXT    NOT NULL,
    host        TEXT,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    exit_code   INTEGER,
    summary     TEXT                           -- the JSON summary of the run
);

CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    run_id  INTEGER,
    time    INTEGER NOT NULL,
    type    TEXT    NOT NULL,
    root_id INTEGER,
    file_id INTEGER,
    path    BLOB,
    detail  TEXT                               -- JSON object, or null
);
CREATE INDEX events_time ON events(time);
CREATE INDEX events_file ON events(file_id);
CREATE INDEX events_path ON events(root_id, path);
