// OS profiles are data: files under templates/profiles/ seed the store once; the store is the truth after.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { OsProfile } from '../domain/types.ts';
import { profileNameSchema } from '../domain/validation.ts';
import type { Store } from '../store/index.ts';

export const profileSchema = z
  .object({
    name: profileNameSchema,
    family: z.enum(['debian', 'ubuntu', 'rhel']),
    release: z.coerce.string(),
    installer: z.enum(['preseed', 'kickstart', 'autoinstall']),
    description: z.string().default(''),
    kernel: z.string().min(1),
    initrd: z.string().min(1),
    mirrorUrl: z.string().url(),
    template: z.string().regex(/^[a-z0-9/_.-]+\.hbs$/, 'template must be a .hbs path under templates/'),
    kernelArgs: z.string().default(''),
    legacy: z.boolean().default(false),
  })
  .strict();

export function readProfileFiles(templatesDir: string): OsProfile[] {
  const dir = join(templatesDir, 'profiles');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const parsed = profileSchema.safeParse(parseYaml(readFileSync(join(dir, file), 'utf8')));
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new Error(`profile file ${join(dir, file)}: ${issue.path.join('.')}: ${issue.message}`);
      }
      return parsed.data;
    });
}

/** Adds shipped profiles that the store does not have yet; never overwrites an imported or edited one. */
export function seedProfiles(store: Store, templatesDir: string): string[] {
  const added: string[] = [];
  for (const profile of readProfileFiles(templatesDir)) {
    if (store.profiles.get(profile.name)) continue;
    store.profiles.upsert(profile);
    added.push(profile.name);
  }
  return added;
}
