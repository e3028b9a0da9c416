// One attempt of one stage on an open session: prepare the root-only stage directory, upload the rendered
// script, verify command and consumed files over SFTP, run with `sh -eu` under a time limit, stream the output
// (masked) into the log buffer and the live view, run the verify command, collect what the stage publishes.
import { posix } from 'node:path';
import { globToRegExp, type StageDefinition } from '../domain/stage-graph.ts';
import { StreamMasker, type Masker } from './masking.ts';
import type { RenderedStage } from './render.ts';
import { shellQuote } from './render.ts';
import { ConnectionLostError, NodeStalledError, type SshSession } from './ssh.ts';
import type { StageOutput } from './live.ts';

export const DEFAULT_STAGE_ROOT = '/var/lib/racklift/stages';
const SAFE_NAME = /^[A-Za-z0-9._][A-Za-z0-9._@+=,-]*(\/[A-Za-z0-9._][A-Za-z0-9._@+=,-]*)*$/;
/** Published files together may not exceed this: they are stored in the database and handed to other nodes. */
const PUBLISH_LIMIT = 64 * 1024 * 1024;

export type AttemptOutcome =
  | { status: 'succeeded'; published: { name: string; value: Buffer }[] }
  | { status: 'failed'; exitCode: number | null; reason: string }
  | { status: 'interrupted'; reason: string };

export interface AttemptInput {
  session: SshSession;
  stage: StageDefinition;
  rendered: RenderedStage;
  /** Remote directory of this run, under the root-only stage root. */
  stageRoot: string;
  runDir: string;
  inputs: { path: string; value: Buffer }[];
  masker: Masker;
  onOutput: (stream: StageOutput['stream'], text: string) => void;
}

const ENVIRONMENT = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive';

function environment(input: AttemptInput): string {
  const dir = input.runDir;
  return `env -i ${ENVIRONMENT} HOME="\${HOME:-/root}" RACKLIFT_STAGE=${shellQuote(input.stage.id)} RACKLIFT_OUT=${shellQuote(`${dir}/out`)} RACKLIFT_IN=${shellQuote(`${dir}/in`)}`;
}

/** The remote time limit (coreutils timeout; exit 124) backs up the local one, which also covers a hung session. */
function limited(seconds: number, command: string): string {
  return `if command -v timeout >/dev/null 2>&1; then exec timeout -k 10 ${seconds} ${command}; else exec ${command}; fi`;
}

export async function runAttempt(input: AttemptInput): Promise<AttemptOutcome> {
  const { session, stage, runDir } = input;
  const deadline = Date.now() + stage.timeoutSeconds * 1000;
  const remaining = () => Math.max(deadline - Date.now(), 1000);
  try {
    const dirs = new Set([`${runDir}/out`, `${runDir}/in`, ...input.inputs.map((file) => posix.dirname(`${runDir}/in/${file.path}`))]);
    const prepare = await session.exec(
      `umask 077 && mkdir -p ${shellQuote(input.stageRoot)} && chmod 0700 ${shellQuote(input.stageRoot)} && rm -rf ${shellQuote(runDir)} && mkdir -p ${[...dirs].map(shellQuote).join(' ')}`,
    );
    if (prepare.code !== 0) return { status: 'failed', exitCode: prepare.code, reason: `could not prepare ${runDir} on ${session.host}` };
    await session.writeFile(`${runDir}/script.sh`, input.rendered.script, 0o700);
    if (input.rendered.verify !== null) await session.writeFile(`${runDir}/verify.sh`, `${input.rendered.verify}\n`, 0o700);
    for (const file of input.inputs) await session.writeFile(`${runDir}/in/${file.path}`, file.value, 0o600);

    const script = await stream(input, 'stdout', `cd ${shellQuote(runDir)} && ${limited(stage.timeoutSeconds, `${environment(input)} sh -eu ${shellQuote(`${runDir}/script.sh`)}`)}`, remaining() + 30_000);
    const scriptProblem = await problemOf(session, script, 'script', stage);
    if (scriptProblem) return scriptProblem;

    if (input.rendered.verify !== null) {
      input.onOutput('verify', `--- verify: ${input.masker.mask(input.rendered.verify.trim())}\n`);
      const verify = await stream(input, 'verify', `cd ${shellQuote(runDir)} && ${limited(Math.ceil(remaining() / 1000), `${environment(input)} sh ${shellQuote(`${runDir}/verify.sh`)}`)}`, remaining() + 30_000);
      const verifyProblem = await problemOf(session, verify, 'verify command', stage);
      if (verifyProblem) return verifyProblem;
    }
    return { status: 'succeeded', published: await collectPublished(session, stage, runDir) };
  } catch (error) {
    // A node that stops answering fails its stage (with retries as the manifest allows), unlike one that went away.
    if (error instanceof NodeStalledError) return { status: 'failed', exitCode: null, reason: `the node stopped answering: ${error.message}` };
    if (error instanceof ConnectionLostError || session.isClosed) return { status: 'interrupted', reason: (error as Error).message };
    return { status: 'failed', exitCode: null, reason: input.masker.mask((error as Error).message) };
  }
}

async function stream(input: AttemptInput, kind: 'stdout' | 'verify', command: string, timeoutMs: number) {
  const out = new StreamMasker(input.masker);
  const err = new StreamMasker(input.masker);
  const emit = (streamName: StageOutput['stream'], text: string) => {
    if (text) input.onOutput(streamName, text);
  };
  try {
    return await input.session.exec(
      command,
      { stdout: (text) => emit(kind, out.push(text)), stderr: (text) => emit(kind === 'verify' ? 'verify' : 'stderr', err.push(text)) },
      timeoutMs,
    );
  } finally {
    emit(kind, out.end());
    emit(kind === 'verify' ? 'verify' : 'stderr', err.end());
  }
}

/** Null when the command succeeded; otherwise why not. A signal with a dead session is an interruption. */
async function problemOf(session: SshSession, result: { code: number | null; signal: string | null }, what: string, stage: StageDefinition): Promise<AttemptOutcome | null> {
  if (result.code === 0) return null;
  if (result.signal === 'TIMEOUT' || result.code === 124 || result.code === 137) {
    return { status: 'failed', exitCode: result.code, reason: `${what} did not finish within ${stage.timeoutSeconds} s` };
  }
  if (result.code === null) {
    const alive = await session.exec('true').then(() => true, () => false);
    if (!alive) return { status: 'interrupted', reason: `the ${what} was killed (${result.signal ?? 'no exit status'}) and the connection is gone` };
    return { status: 'failed', exitCode: null, reason: `${what} was killed by signal ${result.signal ?? '(unknown)'}` };
  }
  return { status: 'failed', exitCode: result.code, reason: `${what} exited with status ${result.code}` };
}

async function collectPublished(session: SshSession, stage: StageDefinition, runDir: string): Promise<{ name: string; value: Buffer }[]> {
  if (stage.publishes.length === 0) return [];
  const patterns = stage.publishes.map(globToRegExp);
  let listing = '';
  const result = await session.exec(`cd ${shellQuote(`${runDir}/out`)} && find . -type f`, { stdout: (text) => (listing += text) });
  if (result.code !== 0) throw new Error(`could not list ${runDir}/out on ${session.host}`);
  const names = listing
    .split('\n')
    .map((line) => line.replace(/^\.\//, ''))
    .filter((name) => name && patterns.some((pattern) => pattern.test(name)))
    .sort();
  const files: { name: string; value: Buffer }[] = [];
  let total = 0;
  for (const name of names) {
    if (!SAFE_NAME.test(name) || name.split('/').includes('..')) throw new Error(`published file name ${JSON.stringify(name)} is not a safe relative path`);
    const value = await session.readFile(`${runDir}/out/${name}`);
    total += value.length;
    if (total > PUBLISH_LIMIT) throw new Error(`published files exceed ${PUBLISH_LIMIT} bytes`);
    files.push({ name, value });
  }
  return files;
}
