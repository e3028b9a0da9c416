-- Roles for users (existing users keep what they had: everything), the address an install's done callback
-- came from (one claim per generation), and the source address of installer callbacks in the event log.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'operator', 'viewer'));
ALTER TABLE nodes ADD COLUMN install_done_from TEXT;
ALTER TABLE events ADD COLUMN source TEXT;
