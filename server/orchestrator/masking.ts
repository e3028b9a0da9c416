// Secrets never reach stage_runs, events or the live view: every text leaving a stage passes a Masker.
export const MASK = '********';

export class Masker {
  private readonly secrets: string[];
  readonly longest: number;

  constructor(values: Iterable<string>) {
    // Longest first, so a secret that contains another is masked whole. Very short values would mask noise.
    this.secrets = [...new Set([...values].filter((value) => value.length >= 6))].sort((a, b) => b.length - a.length);
    this.longest = this.secrets[0]?.length ?? 0;
  }

  /** The largest index <= at where no secret occurrence in text is cut in two. */
  safeSplit(text: string, at: number): number {
    let split = at;
    let moved = true;
    while (moved) {
      moved = false;
      for (const secret of this.secrets) {
        for (let i = text.indexOf(secret); i >= 0 && i < split; i = text.indexOf(secret, i + 1)) {
          if (i + secret.length > split) {
            split = i;
            moved = true;
          }
        }
      }
    }
    return split;
  }

  mask(text: string): string {
    let masked = text;
    for (const secret of this.secrets) if (masked.includes(secret)) masked = masked.split(secret).join(MASK);
    return masked;
  }
}

/**
 * Masks a stream that arrives in arbitrary chunks: whole lines go out at once; a long partial line goes out
 * except its last few characters, so a secret split across two chunks is still seen whole.
 */
export class StreamMasker {
  private pending = '';

  constructor(
    private readonly masker: Masker,
    private readonly partialLimit = 4096,
  ) {}

  push(chunk: string): string {
    this.pending += chunk;
    const lastNewline = this.pending.lastIndexOf('\n');
    let out = '';
    if (lastNewline >= 0) {
      out = this.masker.mask(this.pending.slice(0, lastNewline + 1));
      this.pending = this.pending.slice(lastNewline + 1);
    }
    if (this.pending.length > this.partialLimit) {
      // Any secret starting before `split` ends inside `pending`; one that straddles `split` moves it back.
      const split = this.masker.safeSplit(this.pending, this.pending.length - Math.max(this.masker.longest - 1, 0));
      out += this.masker.mask(this.pending.slice(0, split));
      this.pending = this.pending.slice(split);
    }
    return out;
  }

  end(): string {
    const out = this.masker.mask(this.pending);
    this.pending = '';
    return out;
  }
}
