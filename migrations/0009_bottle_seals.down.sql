-- The seals go; the rows stay, read as the previous schema read them (unsealed).
ALTER TABLE bottles DROP COLUMN heartbeat_seal;
ALTER TABLE bottles DROP COLUMN registration_seal;
