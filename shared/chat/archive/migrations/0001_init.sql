-- The archive of room history (issue #16): rooms with their members and
-- every message version the archiver has seen, newest version per seq.

CREATE TABLE rooms (
    id          bigint PRIMARY KEY,
    type        text NOT NULL,
    name        text NOT NULL DEFAULT '',
    created_by  bigint NOT NULL,
    created_at  text NOT NULL,         -- as the room meta hash holds it
    archived_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE room_members (
    room_id bigint NOT NULL,
    user_id bigint NOT NULL,
    PRIMARY KEY (room_id, user_id)
);

CREATE INDEX room_members_user_id ON room_members (user_id);

CREATE TABLE messages (
    room_id     bigint NOT NULL,
    seq         bigint NOT NULL,
    body        text NOT NULL,         -- the exact history entry JSON
    rev_ms      bigint NOT NULL,       -- stream entry ID of this version
    rev_seq     bigint NOT NULL,
    archived_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (room_id, seq)
);
