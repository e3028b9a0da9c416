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
  private readonly latestForNodes;
  private readonly completionListeners = new Set<(run: StageRunRecord) => void>();

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
    // Per node through the (node_id, generation) index: the cost of a page, not of every run.
    this.latestForNodes = db.prepare<[string], { node_id: number; stage: string; status: StageRunStatus }>(
      `SELECT n.id AS node_id, r.stage, r.status FROM json_each(?) j JOIN nodes n ON n.id = j.value
       JOIN stage_runs r ON r.id = (SELECT id FROM stage_runs WHERE node_id = n.id AND generation = n.generation ORDER BY id DESC LIMIT 1)`,
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
    if (this.completionListeners.size === 0) return;
    const run = this.get(id);
    for (const listener of this.completionListeners) {
      try {
        if (run) listener(run);
      } catch {
        /* a broken subscriber (metrics) never breaks the orchestrator */
      }
    }
  }

  /** Told of every finished run (metrics: stage durations). */
  onComplete(listener: (run: StageRunRecord) => void): () => void {
    this.completionListeners.add(listener);
    return () => this.completionListeners.delete(listener);
  }

  /** The latest stage run of the current generation of each of these nodes. */
  currentStagesOf(nodeIds: number[]): Map<number, { stage: string; status: StageRunStatus }> {
    return new Map(this.latestForNodes.all(JSON.stringify(nodeIds)).map((row) => [row.node_id, { stage: row.stage, status: row.status }]));
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

  // The orchestrator's queries (prepared on first use).
  private orchestratorStatements: ReturnType<StageRunStore['prepareOrchestrator']> | null = null;

  private prepareOrchestrator() {
    return {
      running: this.db.prepare<[], { id: number }>("SELECT id FROM stage_runs WHERE status = 'running' ORDER BY id"),
      interrupt: this.db.prepare("UPDATE stage_runs SET status = 'interrupted', finished_at = @now WHERE id = @id AND status = 'running'"),
      verified: this.db.prepare<[], { node_id: number; stage: string }>(
        `SELECT DISTINCT r.node_id, r.stage FROM stage_runs r
         JOIN nodes n ON n.id = r.node_id AND n.generation = r.generation WHERE r.status = 'succeeded'`,
      ),
      failedSince: this.db.prepare<[number, number, string, string], { n: number }>(
        "SELECT COUNT(*) AS n FROM stage_runs WHERE node_id = ? AND generation = ? AND stage = ? AND status = 'failed' AND started_at >= ?",
      ),
      clearOutputs: this.db.prepare<[number, string]>('DELETE FROM stage_outputs WHERE node_id = ? AND stage = ?'),
      verifiedOf: this.db.prepare<[number, number], { stage: string }>(
        "SELECT DISTINCT stage FROM stage_runs WHERE node_id = ? AND generation = ? AND status = 'succeeded'",
      ),
    };
  }

  private get orchestrator() {
    return (this.orchestratorStatements ??= this.prepareOrchestrator());
  }

  /** At start-up: runs left `running` by a stopped appliance become `interrupted` (they run again). */
  interruptRunning(): StageRunRecord[] {
    return this.db.transaction(() => {
      const now = new Date().toISOString();
      const ids = this.orchestrator.running.all().map((row) => row.id);
      for (const id of ids) this.orchestrator.interrupt.run({ id, now });
      return ids.map((id) => this.get(id)!);
    })();
  }

  /** Stages each node has verified in its current install generation. */
  verifiedByNode(): Map<number, Set<string>> {
    const result = new Map<number, Set<string>>();
    for (const row of this.orchestrator.verified.all()) {
      const stages = result.get(row.node_id) ?? new Set<string>();
      stages.add(row.stage);
      result.set(row.node_id, stages);
    }
    return result;
  }

  /** Stages one node has verified in one install generation. */
  verifiedStages(nodeId: number, generation: number): Set<string> {
    return new Set(this.orchestrator.verifiedOf.all(nodeId, generation).map((row) => row.stage));
  }

  /** Failed attempts of a stage that started at or after `sinceIso` (the node's entry into bootstrapping). */
  failedAttemptsSince(nodeId: number, generation: number, stage: string, sinceIso: string): number {
    return this.orchestrator.failedSince.get(nodeId, generation, stage, sinceIso)?.n ?? 0;
  }

  /** Replaces what a node's stage published, in one transaction. */
  replaceOutputs(nodeId: number, stage: string, files: { name: string; value: Buffer }[]): void {
    this.db.transaction(() => {
      this.orchestrator.clearOutputs.run(nodeId, stage);
      for (const file of files) this.publish(nodeId, stage, file.name, file.value);
    })();
  }
}
