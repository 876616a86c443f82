-- The guided report's dialogs live in the core's `dialogs` table now. One in progress
-- during the upgrade is not carried over: it lasts minutes, and the person starts again.
DROP TABLE sighting_dialogs;
