// netascii (RFC 764 as used by RFC 1350): LF becomes CR LF and a bare CR becomes CR NUL. The encoder is
// streaming: a pair that does not fit in the caller's buffer is carried over to the next call.

const CR = 0x0d;
const LF = 0x0a;

/** Length of `data` once converted: every CR and every LF gains one byte. */
export function netasciiLength(data: Uint8Array): number {
  let extra = 0;
  for (let i = 0; i < data.length; i++) {
    const byte = data[i];
    if (byte === CR || byte === LF) extra++;
  }
  return data.length + extra;
}

export function toNetascii(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(netasciiLength(data));
  const encoder = new NetasciiEncoder();
  encoder.push(data);
  const written = encoder.pull(out);
  return out.subarray(0, written);
}

export class NetasciiEncoder {
  private input: Uint8Array = new Uint8Array(0);
  private inputOffset = 0;
  /** Second byte of a pair whose first byte filled the previous output buffer. */
  private carry = -1;

  /** Raw bytes still waiting to be encoded (excluding a carried byte). */
  get pending(): number {
    return this.input.length - this.inputOffset;
  }

  get hasCarry(): boolean {
    return this.carry !== -1;
  }

  push(data: Uint8Array): void {
    if (this.pending > 0) throw new Error('netascii encoder: push before the previous input was consumed');
    this.input = data;
    this.inputOffset = 0;
  }

  /** Fills `out` from the pending input; returns the number of bytes written. */
  pull(out: Uint8Array): number {
    let written = 0;
    if (this.carry !== -1 && written < out.length) {
      out[written++] = this.carry;
      this.carry = -1;
    }
    const input = this.input;
    let i = this.inputOffset;
    while (written < out.length && i < input.length) {
      const byte = input[i++]!;
      if (byte === LF || byte === CR) {
        out[written++] = CR;
        const second = byte === LF ? LF : 0;
        if (written < out.length) out[written++] = second;
        else this.carry = second;
      } else {
        out[written++] = byte;
      }
    }
    this.inputOffset = i;
    return written;
  }
}
