// DHCP leases. Reservations are not rows here: they are node management addresses (nodes table).
import type { Db } from './db.ts';

export type LeaseState = 'offered' | 'bound' | 'released' | 'declined';

export interface LeaseRecord {
  address: string;
  mac: string;
  subnet: string;
  state: LeaseState;
  expiresAt: number;
  clientHostname: string | null;
  updatedAt: number;
}

interface LeaseRow {
  address: string;
  mac: string;
  subnet: string;
  state: LeaseState;
  expires_at: number;
  client_hostname: string | null;
  updated_at: number;
}

const toLease = (row: LeaseRow): LeaseRecord => ({
  address: row.address,
  mac: row.mac,
  subnet: row.subnet,
  state: row.state,
  expiresAt: row.expires_at,
  clientHostname: row.client_hostname,
  updatedAt: row.updated_at,
});

export class LeaseStore {
  private readonly byAddress;
  private readonly byMac;
  private readonly inSubnet;
  private readonly upsertStatement;
  private readonly removeStatement;
  private readonly all;

  constructor(private readonly db: Db) {
    this.byAddress = db.prepare<[string], LeaseRow>('SELECT * FROM leases WHERE address = ?');
    this.byMac = db.prepare<[string], LeaseRow>('SELECT * FROM leases WHERE mac = ? ORDER BY updated_at DESC');
    this.inSubnet = db.prepare<[string], LeaseRow>('SELECT * FROM leases WHERE subnet = ?');
    this.all = db.prepare<[], LeaseRow>('SELECT * FROM leases ORDER BY address');
    this.upsertStatement = db.prepare(
      `INSERT INTO leases (address, mac, subnet, state, expires_at, client_hostname, updated_at)
       VALUES (@address, @mac, @subnet, @state, @expiresAt, @clientHostname, @updatedAt)
       ON CONFLICT(address) DO UPDATE SET mac = excluded.mac, subnet = excluded.subnet, state = excluded.state,
         expires_at = excluded.expires_at, client_hostname = excluded.client_hostname, updated_at = excluded.updated_at`,
    );
    this.removeStatement = db.prepare<[string]>('DELETE FROM leases WHERE address = ?');
  }

  get(address: string): LeaseRecord | null {
    const row = this.byAddress.get(address);
    return row ? toLease(row) : null;
  }

  forMac(mac: string): LeaseRecord[] {
    return this.byMac.all(mac).map(toLease);
  }

  listSubnet(subnet: string): LeaseRecord[] {
    return this.inSubnet.all(subnet).map(toLease);
  }

  list(): LeaseRecord[] {
    return this.all.all().map(toLease);
  }

  upsert(lease: LeaseRecord): void {
    this.upsertStatement.run(lease);
  }

  /** Several lease writes in one transaction: the DHCP service batches them off the packet path. */
  upsertMany(leases: LeaseRecord[]): void {
    this.db.transaction((batch: LeaseRecord[]) => {
      for (const lease of batch) this.upsertStatement.run(lease);
    })(leases);
  }

  remove(address: string): void {
    this.removeStatement.run(address);
  }
}
