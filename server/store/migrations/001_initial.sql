-- The tables of DESIGN.md. JSON columns hold small structured values; everything looked up is a column.
CREATE TABLE nodes (
  id INTEGER PRIMARY KEY,
  mac TEXT NOT NULL UNIQUE,
  hostname TEXT UNIQUE,
  roles TEXT NOT NULL DEFAULT '[]',
  profile TEXT,
  state TEXT NOT NULL,
  generation INTEGER NOT NULL DEFAULT 0,
  install_token_hash TEXT UNIQUE,
  failed_phase TEXT,
  failed_reason TEXT,
  management_address TEXT UNIQUE,
  addresses TEXT NOT NULL DEFAULT '{}',
  interfaces TEXT NOT NULL DEFAULT '{}',
  disks TEXT NOT NULL DEFAULT '[]',
  bmc TEXT,
  facts TEXT NOT NULL DEFAULT '{}',
  bootloader TEXT NOT NULL DEFAULT 'ipxe',
  ssh_host_key TEXT,
  power_state TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  state_changed_at TEXT NOT NULL
);
CREATE INDEX nodes_state ON nodes(state);

CREATE TABLE leases (
  address TEXT PRIMARY KEY,
  mac TEXT NOT NULL,
  subnet TEXT NOT NULL,
  state TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  client_hostname TEXT,
  updated_at INTEGER NOT NULL
);
CREATE INDEX leases_mac ON leases(mac);

CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  node_id INTEGER,
  mac TEXT,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT,
  message TEXT NOT NULL,
  actor TEXT
);
CREATE INDEX events_node ON events(node_id, id);

CREATE TABLE stage_runs (
  id INTEGER PRIMARY KEY,
  node_id INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  stage TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  status TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  exit_code INTEGER,
  log TEXT NOT NULL DEFAULT '',
  UNIQUE (node_id, generation, stage, attempt)
);
CREATE INDEX stage_runs_node ON stage_runs(node_id, generation);

CREATE TABLE stage_outputs (
  node_id INTEGER NOT NULL,
  stage TEXT NOT NULL,
  name TEXT NOT NULL,
  value BLOB NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (node_id, stage, name)
);

CREATE TABLE cluster (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  settings TEXT NOT NULL DEFAULT '{}',
  secrets TEXT NOT NULL DEFAULT '{}',
  updated_at TEXT NOT NULL
);

CREATE TABLE profiles (
  name TEXT PRIMARY KEY,
  family TEXT NOT NULL,
  release TEXT NOT NULL,
  installer TEXT NOT NULL,
  kernel TEXT NOT NULL,
  initrd TEXT NOT NULL,
  mirror_url TEXT NOT NULL,
  template TEXT NOT NULL,
  kernel_args TEXT NOT NULL DEFAULT '',
  legacy INTEGER NOT NULL DEFAULT 0,
  description TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL
);

CREATE TABLE appliance_secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  last_used_at TEXT
);
