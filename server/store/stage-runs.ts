// Bootstrap stage runs (one row per attempt, log tail bounded) and the outputs stages publish for other nodes.
import type { Db } from './db.ts';

export type StageRunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';

export interface StageRunRecord {
  id: number;
  nodeId: number;
  generation: number;
  stage: string;
  attempt: number;
  status: StageRunStatus;
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number | null;
  log: string;
}

interface StageRunRow {
  id: number;
  node_id: number;
  generation: number;
  stage: string;
  attempt: number;
  status: StageRunStatus;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  log: string;
}

const toRun = (row: StageRunRow): StageRunRecord => ({
  id: row.id,
  nodeId: row.node_id,
  generation: row.generation,
  stage: row.stage,
  attempt: row.attempt,
  status: row.status,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
  exitCode: row.exit_code,
  log: row.log,
});

/** Logs keep their last LOG_LIMIT characters: the tail is what an operator needs after a failure. */
export const LOG_LIMIT = 64 * 1024;

export class StageRunStore {
  private readonly insert;
  private readonly byId;
  private readonly forNode;
  private readonly appendLog;
  private readonly finish;
  private readonly lastAttempt;
  private readonly putOutput;
  private readonly getOutput;
  private readonly outputsOfStage;

  constructor(private readonly db: Db) {
    this.insert = db.prepare(
      `INSERT INTO stage_runs (node_id, generation, stage, attempt, status, started_at)
       VALUES (@nodeId, @generation, @stage, @attempt, 'running', @now)`,
    );
    this.byId = db.prepare<[number], StageRunRow>('SELECT * FROM stage_runs WHERE id = ?');
    this.forNode = db.prepare<[number, number], StageRunRow>(
      'SELECT * FROM stage_runs WHERE node_id = ? AND generation = ? ORDER BY id',
    );
    this.lastAttempt = db.prepare<[number, number, string], { attempt: number | null }>(
      'SELECT MAX(attempt) AS attempt FROM stage_runs WHERE node_id = ? AND generation = ? AND stage = ?',
    );
    this.appendLog = db.prepare(
      `UPDATE stage_runs SET log = substr(log || @chunk, -${LOG_LIMIT}) WHERE id = @id`,
    );
    this.finish = db.prepare(
      'UPDATE stage_runs SET status = @status, exit_code = @exitCode, finished_at = @now WHERE id = @id',
    );
    this.putOutput = db.prepare(
      `INSERT INTO stage_outputs (node_id, stage, name, value, updated_at) VALUES (@nodeId, @stage, @name, @value, @now)
       ON CONFLICT(node_id, stage, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    );
    this.getOutput = db.prepare<[number, string, string], { value: Buffer }>(
      'SELECT value FROM stage_outputs WHERE node_id = ? AND stage = ? AND name = ?',
    );
    this.outputsOfStage = db.prepare<[string], { node_id: number; name: string; value: Buffer }>(
      'SELECT node_id, name, value FROM stage_outputs WHERE stage = ? ORDER BY node_id, name',
    );
  }

  start(nodeId: number, generation: number, stage: string): StageRunRecord {
    const attempt = (this.lastAttempt.get(nodeId, generation, stage)?.attempt ?? 0) + 1;
    const id = Number(this.insert.run({ nodeId, generation, stage, attempt, now: new Date().toISOString() }).lastInsertRowid);
    return toRun(this.byId.get(id)!);
  }

  get(id: number): StageRunRecord | null {
    const row = this.byId.get(id);
    return row ? toRun(row) : null;
  }

  list(nodeId: number, generation: number): StageRunRecord[] {
    return this.forNode.all(nodeId, generation).map(toRun);
  }

  /** Appends several buffered chunks in one transaction. */
  appendLogs(chunks: { id: number; chunk: string }[]): void {
    this.db.transaction((batch: { id: number; chunk: string }[]) => {
      for (const entry of batch) this.appendLog.run(entry);
    })(chunks);
  }

  complete(id: number, status: Exclude<StageRunStatus, 'running'>, exitCode: number | null): void {
    this.finish.run({ id, status, exitCode, now: new Date().toISOString() });
  }

  publish(nodeId: number, stage: string, name: string, value: Buffer): void {
    this.putOutput.run({ nodeId, stage, name, value, now: new Date().toISOString() });
  }

  output(nodeId: number, stage: string, name: string): Buffer | null {
    return this.getOutput.get(nodeId, stage, name)?.value ?? null;
  }

  outputsOf(stage: string): { nodeId: number; name: string; value: Buffer }[] {
    return this.outputsOfStage.all(stage).map((row) => ({ nodeId: row.node_id, name: row.name, value: row.value }));
  }
}
