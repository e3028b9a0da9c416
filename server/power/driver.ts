// The one interface every BMC driver implements, and the errors they raise.

export type PowerState = 'on' | 'off' | 'unknown';
export type PowerAction = 'on' | 'off' | 'cycle';
/** `network-once`: PXE on the next boot only; `disk`: the local disk on the next boot. */
export type BootDevice = 'network-once' | 'disk';

export interface PowerDriver {
  readonly name: 'ipmi' | 'redfish';
  status(signal: AbortSignal): Promise<PowerState>;
  on(signal: AbortSignal): Promise<void>;
  off(signal: AbortSignal): Promise<void>;
  /** Off then on; a machine that is off is just powered on. */
  cycle(signal: AbortSignal): Promise<void>;
  setNextBoot(device: BootDevice, signal: AbortSignal): Promise<void>;
}

/**
 * Why a BMC call failed, in words an operator can act on:
 * auth (user or password refused), unreachable (nothing answers), timeout, tls (certificate not trusted),
 * refused (the BMC answered but would not do it), protocol (an answer we cannot read).
 */
export type PowerFailure = 'auth' | 'unreachable' | 'timeout' | 'tls' | 'refused' | 'protocol';

export class PowerError extends Error {
  readonly code = 'power';
  constructor(
    readonly failure: PowerFailure,
    message: string,
  ) {
    super(message);
  }
}

export function abortedError(signal: AbortSignal, what: string): PowerError {
  const reason = signal.reason;
  if (reason instanceof PowerError) return reason;
  return new PowerError('timeout', `${what}: no answer in time`);
}
