import Database from 'better-sqlite3';

import type { FileKind, RunDetail, RunStatus, RunSummary } from '@diffedit/core';

/** A stored file's record: where it came from and how to serve it. */
export interface FileRecord {
  id: string;
  kind: FileKind;
  /** The node's file name for outputs, the upload's original name (display only) for uploads. */
  name: string;
  mime: string;
  size: number;
  runId: string | null;
  nodeId: string | null;
  width: number | null;
  height: number | null;
  createdAt: number;
}

type RunRow = { detail: string; workflow: string };
type FileRow = {
  id: string;
  kind: FileKind;
  name: string;
  mime: string;
  size: number;
  run_id: string | null;
  node_id: string | null;
  width: number | null;
  height: number | null;
  created_at: number;
};

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    client_id TEXT,
    created_at INTEGER NOT NULL,
    workflow TEXT NOT NULL,
    detail TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, seq);
  CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    run_id TEXT,
    node_id TEXT,
    width INTEGER,
    height INTEGER,
    created_at INTEGER NOT NULL
  );
`;

/**
 * Queue, history and file records in SQLite. WAL with synchronous=NORMAL: a committed write survives the
 * process being killed (kill -9), which is what restart recovery relies on.
 */
export class ServerStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
  }

  insertRun(run: RunDetail): void {
    const { workflow, ...detail } = run;
    this.db
      .prepare(
        'INSERT INTO runs (id, status, client_id, created_at, workflow, detail) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(
        run.runId,
        run.status,
        run.clientId ?? null,
        run.createdAt,
        JSON.stringify(workflow),
        JSON.stringify(detail),
      );
  }

  /** Saves everything but the workflow (which never changes). */
  updateRun(run: RunDetail): void {
    const { workflow: _workflow, position: _position, ...detail } = run;
    this.db
      .prepare('UPDATE runs SET status = ?, detail = ? WHERE id = ?')
      .run(run.status, JSON.stringify(detail), run.runId);
  }

  getRun(id: string): RunDetail | undefined {
    const row = this.db.prepare('SELECT detail, workflow FROM runs WHERE id = ?').get(id) as
      RunRow | undefined;
    if (!row) return undefined;
    return { ...(JSON.parse(row.detail) as Omit<RunDetail, 'workflow'>), workflow: JSON.parse(row.workflow) };
  }

  /** History, newest first. */
  listRuns(filter: { status?: RunStatus; limit: number; offset: number }): {
    runs: RunSummary[];
    total: number;
  } {
    const where = filter.status ? 'WHERE status = ?' : '';
    const args = filter.status ? [filter.status] : [];
    const total = (this.db.prepare(`SELECT count(*) AS n FROM runs ${where}`).get(...args) as { n: number })
      .n;
    const rows = this.db
      .prepare(`SELECT detail FROM runs ${where} ORDER BY seq DESC LIMIT ? OFFSET ?`)
      .all(...args, filter.limit, filter.offset) as { detail: string }[];
    return { runs: rows.map((row) => summaryOf(JSON.parse(row.detail) as RunDetail)), total };
  }

  /** Ids of the queued runs, oldest first. */
  queuedRunIds(): string[] {
    const rows = this.db.prepare("SELECT id FROM runs WHERE status = 'queued' ORDER BY seq").all() as {
      id: string;
    }[];
    return rows.map((row) => row.id);
  }

  /** Runs left 'running' by a process that died. */
  interruptedRuns(): RunDetail[] {
    const rows = this.db.prepare("SELECT id FROM runs WHERE status = 'running' ORDER BY seq").all() as {
      id: string;
    }[];
    return rows.map((row) => this.getRun(row.id)!);
  }

  insertFile(file: FileRecord): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO files (id, kind, name, mime, size, run_id, node_id, width, height, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        file.id,
        file.kind,
        file.name,
        file.mime,
        file.size,
        file.runId,
        file.nodeId,
        file.width,
        file.height,
        file.createdAt,
      );
  }

  getFile(id: string): FileRecord | undefined {
    const row = this.db.prepare('SELECT * FROM files WHERE id = ?').get(id) as FileRow | undefined;
    if (!row) return undefined;
    return {
      id: row.id,
      kind: row.kind,
      name: row.name,
      mime: row.mime,
      size: row.size,
      runId: row.run_id,
      nodeId: row.node_id,
      width: row.width,
      height: row.height,
      createdAt: row.created_at,
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export function summaryOf(run: RunDetail): RunSummary {
  const { nodes: _n, cached: _c, warnings: _w, issues: _i, workflow: _wf, ...summary } = run;
  const image = run.files.find((f) => f.mime.startsWith('image/'));
  const preview = run.nodes
    .flatMap((n) => n.previews ?? [])
    .filter((p) => p.socketType === 'IMAGE')
    .at(-1);
  const thumbnail = image?.url ?? preview?.url;
  return { ...summary, ...(thumbnail !== undefined ? { thumbnail } : {}) };
}
