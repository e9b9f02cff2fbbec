-- Position-in-queue and estimated-wait announcements (issue 17, backend/src/announce.rs):
-- every `announce_interval_seconds` a waiting caller hears "you are caller number N" and/or
-- "your estimated waiting time is about M minutes" over the music on hold. 0 is off; otherwise
-- 15 s to 10 minutes (more often than every 15 s the caller hears more talk than music).
ALTER TABLE queues
    ADD COLUMN announce_position boolean NOT NULL DEFAULT false,
    ADD COLUMN announce_wait boolean NOT NULL DEFAULT false,
    ADD COLUMN announce_interval_seconds integer NOT NULL DEFAULT 0
        CHECK (announce_interval_seconds = 0 OR announce_interval_seconds BETWEEN 15 AND 600);

-- The estimate averages the handle time of the queue's last answered calls.
CREATE INDEX cdrs_queue_answered ON cdrs (queue_id, ended_at DESC)
    WHERE connected_at IS NOT NULL AND ended_at IS NOT NULL;
