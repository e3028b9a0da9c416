/** MAC addresses are stored and compared as lower-case colon-separated hex: `52:54:00:12:34:56`. */

const MAC_PATTERN = /^[0-9a-f]{2}([:-]?)[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

export function isMac(value: string): boolean {
  return MAC_PATTERN.test(value.trim());
}

const CANONICAL_MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

export function normalizeMac(value: string): string {
  // The packet path hands in canonical MACs (decoded from chaddr): nothing to rewrite.
  if (CANONICAL_MAC.test(value)) return value;
  const trimmed = value.trim();
  if (!isMac(trimmed)) throw new Error(`not a MAC address: ${JSON.stringify(value)}`);
  const hex = trimmed.replace(/[:-]/g, '').toLowerCase();
  return hex.match(/../g)!.join(':');
}

/**
 * Why a MAC cannot be a machine's network card, or null when it can: a multicast or broadcast address (the
 * lowest bit of the first octet set, ff:ff:ff:ff:ff:ff included) or all zeros. Expects the normalized form.
 */
export function groupMacProblem(mac: string): string | null {
  if (mac === '00:00:00:00:00:00') return `${mac} is the all-zero MAC address, which no network card has`;
  const first = parseInt(mac.slice(0, 2), 16);
  if (first & 1) {
    return `${mac} is a ${mac === 'ff:ff:ff:ff:ff:ff' ? 'broadcast' : 'multicast'} MAC address (the lowest bit of its first octet is set), which no network card has`;
  }
  return null;
}

export function macFromBytes(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The pxelinux per-node config file name: `01-` (ARP type Ethernet) and the MAC with dashes. */
export function pxelinuxConfigName(mac: string): string {
  return `01-${normalizeMac(mac).replace(/:/g, '-')}`;
}
