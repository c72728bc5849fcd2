import type { RunSummary } from '@diffedit/core';
import { useEffect, useState } from 'react';

import { api } from '../../api/client.js';
import { cancelRun, showRun } from '../../api/runner.js';
import { useEditor } from '../../store/editor.js';
import { importJsonText } from '../../util/import-export.js';
import { FileImage, FileLink } from '../FileImage.js';

/** Queue and history: newest first, with thumbnails; re-open a run's workflow, cancel, download outputs. */
export function RunsPanel(): React.JSX.Element {
  const [runs, setRuns] = useState<RunSummary[]>([]);
  const load = useEditor((s) => s.load);
  const notify = useEditor((s) => s.notify);
  useEffect(() => {
    let live = true;
    const refresh = (): void => {
      api
        .runs()
        .then((list) => live && setRuns(list.runs))
        .catch(() => undefined);
    };
    refresh();
    window.addEventListener('diffedit:runs-changed', refresh);
    return () => {
      live = false;
      window.removeEventListener('diffedit:runs-changed', refresh);
    };
  }, []);

  const reopen = async (runId: string): Promise<void> => {
    const run = await api.run(runId);
    const parsed = importJsonText(JSON.stringify(run.workflow));
    if (!parsed.ok) return notify('error', parsed.message);
    load(parsed.workflow);
    await showRun(runId);
  };

  return (
    <section className="runs" aria-label="Queue and history">
      <h2>Queue &amp; history</h2>
      {runs.length === 0 && <p className="muted">No runs yet.</p>}
      <ul>
        {runs.map((run) => {
          const image = run.thumbnail;
          return (
            <li key={run.runId} className={`run ${run.status}`} data-run-id={run.runId}>
              {image ? <FileImage src={image} alt="" className="run-thumb" /> : <div className="run-thumb" />}
              <div className="run-info">
                <b>{run.name}</b>
                <span className={`badge ${run.status}`}>{run.status}</span>
                <small>{new Date(run.createdAt).toLocaleTimeString()}</small>
                {run.error && <small className="error-text">{run.error.message}</small>}
                <div className="run-actions">
                  <button type="button" className="small" onClick={() => void reopen(run.runId)}>
                    Open
                  </button>
                  {(run.status === 'queued' || run.status === 'running') && (
                    <button type="button" className="small" onClick={() => void cancelRun(run.runId)}>
                      Cancel
                    </button>
                  )}
                  {run.files.map((f) => (
                    <FileLink key={f.fileId} className="button small" href={f.url} download={f.name}>
                      ⬇ {f.name}
                    </FileLink>
                  ))}
                </div>
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
