// Start-up check of boot files; replaced by the HTTP boot issue's version (profiles seeding, warnings).
import type { AppContext } from '../context.ts';

export async function prepareBootFiles(_ctx: AppContext): Promise<void> {}
