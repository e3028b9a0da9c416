// Turns what a booting client sent (DHCP options 60, 77, 93) into what kind of firmware it is.
import type { ClientFacts, Firmware } from './types.ts';

export interface ClassifiedClient {
  firmware: Firmware;
  archCode: number | null;
  /** Option 60 begins with `PXEClient`: a firmware PXE ROM (or iPXE, which also sends it). */
  isPxeClient: boolean;
  /** Option 60 begins with `HTTPClient`: UEFI HTTP boot, which wants a URL, not a TFTP file name. */
  isHttpClient: boolean;
  /** Option 77 says `iPXE`: the loader already runs, hand it the script URL so it does not chain itself. */
  isIpxe: boolean;
}

/** RFC 4578 section 2.1 and the IANA "Processor Architecture Types" registry. */
export function firmwareForArch(archCode: number | null): Firmware {
  switch (archCode) {
    case 0:
      return 'bios';
    case 6:
      return 'uefi-ia32';
    case 7:
    case 9:
      return 'uefi-x64';
    case 11:
      return 'uefi-arm64';
    case 16:
      return 'uefi-http-x64';
    case 19:
      return 'uefi-http-arm64';
    default:
      return 'unknown';
  }
}

export function archFromVendorClass(vendorClass: string | undefined): number | null {
  const match = /^(?:PXEClient|HTTPClient):Arch:(\d{5})/.exec(vendorClass ?? '');
  return match ? Number(match[1]) : null;
}

export function classifyClient(facts: ClientFacts): ClassifiedClient {
  const vendorClass = facts.vendorClass ?? '';
  const isPxeClient = vendorClass.startsWith('PXEClient');
  const isHttpClient = vendorClass.startsWith('HTTPClient');
  const isIpxe = facts.userClass === 'iPXE';
  const archCode = facts.archCode ?? archFromVendorClass(vendorClass) ?? (isPxeClient || isIpxe ? 0 : null);
  let firmware = firmwareForArch(archCode);
  if (isHttpClient && firmware === 'uefi-x64') firmware = 'uefi-http-x64';
  if (isHttpClient && firmware === 'uefi-arm64') firmware = 'uefi-http-arm64';
  return { firmware, archCode, isPxeClient, isHttpClient, isIpxe };
}
