-- Where alerts went now lives in the core's broadcasts; the keys stay the same, so alerts
-- sent before the upgrade are still edited by their updates.
INSERT OR IGNORE INTO broadcasts (key, topic, opened_at, closed_at)
SELECT 'relay:' || confirm_seq, 'relay:' || report_id, confirmed_at, MAX(closed_at)
FROM relay_alerts GROUP BY confirm_seq;

INSERT OR IGNORE INTO broadcast_rooms (key, transport, room_id, thread_root)
SELECT 'relay:' || confirm_seq, transport, room_id, thread_root FROM relay_alerts;

DROP TABLE relay_alerts;
