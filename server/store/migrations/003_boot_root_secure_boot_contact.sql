-- Issue 15. Where `racklift os import` took a profile's media from (links in boot/ may resolve into it);
-- per-node Secure Boot (shim -> GRUB instead of iPXE for UEFI); the node's last contact with the appliance
-- (any DHCP, TFTP or HTTP request from it, any package fetched through the appliance's cache).
ALTER TABLE profiles ADD COLUMN media_source TEXT;
ALTER TABLE nodes ADD COLUMN secure_boot INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN last_contact_at TEXT;
ALTER TABLE nodes ADD COLUMN last_contact_via TEXT;
-- Boot decisions for a MAC that has no node yet; the node adopts them when it is created.
CREATE INDEX events_unowned_mac ON events(mac) WHERE node_id IS NULL;
