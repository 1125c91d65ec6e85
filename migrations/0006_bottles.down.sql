-- Heartbeats are rewritten every half minute by every running sidecar; nothing is lost for long.
DROP TABLE bottles;
