-- Hardlink dedup: stored plans and one action per duplicate path. An action keeps what the plan
-- relied on (paths, inodes, size, mtimes) so that execute can tell a file changed since planning.
CREATE TABLE link_plans (
    id          INTEGER PRIMARY KEY,
    name        TEXT,
    created_at  INTEGER NOT NULL,
    created_run INTEGER,
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed', 'failed')),
    min_size    INTEGER NOT NULL,
    roots       TEXT,                          -- JSON array of the root names it was limited to, or null
    groups      INTEGER NOT NULL,
    actions     INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,              -- reclaimable when every action is carried out
    started_at  INTEGER,
    finished_at INTEGER,
    last_run    INTEGER
);

CREATE TABLE link_actions (
    id            INTEGER PRIMARY KEY,
    plan_id       INTEGER NOT NULL REFERENCES link_plans(id),
    group_no      INTEGER NOT NULL,
    sha256        BLOB    NOT NULL,
    size          INTEGER NOT NULL,
    device        INTEGER NOT NULL,
    keep_file_id  INTEGER NOT NULL,
    keep_root_id  INTEGER NOT NULL,
    keep_path     BLOB    NOT NULL,
    keep_inode    INTEGER NOT NULL,
    keep_mtime_ns INTEGER NOT NULL,
    dup_file_id   INTEGER NOT NULL,
    dup_root_id   INTEGER NOT NULL,
    dup_path      BLOB    NOT NULL,
    dup_inode     INTEGER NOT NULL,
    dup_mtime_ns  INTEGER NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'done', 'skipped', 'failed')),
    reason        TEXT,
    done_at       INTEGER,
    run_id        INTEGER
);
CREATE INDEX link_actions_plan ON link_actions(plan_id, status);
