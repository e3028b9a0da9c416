// One place that undoes what the harness created (VMs, daemons, namespaces), in reverse order, exactly once:
// from afterAll, and again from process exit and signal handlers in case a run is interrupted.
type Undo = { label: string; undo: () => void };

const pending: Undo[] = [];
let handlersInstalled = false;

function runAll(): void {
  while (pending.length > 0) {
    const step = pending.pop()!;
    try {
      step.undo();
    } catch (error) {
      process.stderr.write(`e2e cleanup: ${step.label}: ${(error as Error).message}\n`);
    }
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runAll();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Registers a synchronous undo step; returns a function that runs it now (and forgets it). */
export function onCleanup(label: string, undo: () => void): () => void {
  installHandlers();
  const step = { label, undo };
  pending.push(step);
  return () => {
    const index = pending.indexOf(step);
    if (index < 0) return;
    pending.splice(index, 1);
    step.undo();
  };
}

export function cleanupAll(): void {
  runAll();
}
