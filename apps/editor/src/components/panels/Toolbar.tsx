import type { WorkflowEntry } from '@diffedit/core';
import { useEffect, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';

import { api } from '../../api/client.js';
import { cancelRun, runWorkflow } from '../../api/runner.js';
import { currentWorkflow, useEditor } from '../../store/editor.js';
import { exportJson, importJsonText } from '../../util/import-export.js';
import { overallProgress } from '../../util/run-state.js';

export function Toolbar({
  onImportFile,
  onFitView,
  onNew,
}: {
  onImportFile: (file: File) => void;
  onFitView: () => void;
  onNew: () => void;
}): React.JSX.Element {
  const name = useEditor((s) => s.doc.name);
  const setName = useEditor((s) => s.setName);
  const run = useEditor((s) => s.run);
  const canUndo = useEditor((s) => s.history.past.length > 0);
  const canRedo = useEditor((s) => s.history.future.length > 0);
  const selected = useEditor(useShallow((s) => s.doc.nodes.filter((n) => n.selected).map((n) => n.id)));
  const issueCount = useEditor((s) => Object.values(s.issues).reduce((a, list) => a + list.length, 0));
  const { undo, redo, load, notify, groupSelection } = useEditor.getState();
  const [library, setLibrary] = useState<WorkflowEntry[]>([]);
  const fileInput = useRef<HTMLInputElement>(null);

  const refreshLibrary = (): void => void api.workflows().then(setLibrary, () => setLibrary([]));
  useEffect(refreshLibrary, []);

  const open = async (entry: string): Promise<void> => {
    try {
      const parsed = importJsonText(JSON.stringify(await api.loadWorkflow(entry)));
      if (!parsed.ok) return notify('error', parsed.message);
      load(parsed.workflow);
      notify('info', `Opened ${entry}`);
    } catch (error) {
      notify('error', `Open failed: ${(error as Error).message}`);
    }
  };
  const save = async (): Promise<void> => {
    const fileName = window.prompt(
      'Save to the library as (letters, digits, _ and -):',
      name.replace(/[^A-Za-z0-9_-]+/g, '-'),
    );
    if (!fileName) return;
    try {
      await api.saveWorkflow(fileName, currentWorkflow());
      notify('info', `Saved as ${fileName}`);
      refreshLibrary();
    } catch (error) {
      notify('error', `Save failed: ${(error as Error).message}`);
    }
  };
  const exportFile = (): void => {
    const blob = new Blob([exportJson(currentWorkflow())], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${name.replace(/[^A-Za-z0-9_-]+/g, '-') || 'workflow'}.json`;
    a.click();
    URL.revokeObjectURL(a.href);
  };
  const running = run && (run.status === 'queued' || run.status === 'running');
  const progress = run ? overallProgress(run) : 0;

  return (
    <header className="toolbar">
      <strong className="brand">DiffEdit Studio</strong>
      <input
        className="wf-name"
        aria-label="Workflow name"
        value={name}
        onChange={(e) => setName(e.target.value)}
      />
      <select
        aria-label="Open from library"
        value=""
        onChange={(e) => {
          if (e.target.value === '__new') onNew();
          else if (e.target.value) void open(e.target.value);
        }}
      >
        <option value="">Open…</option>
        <option value="__new">New (empty canvas)</option>
        <optgroup label="Templates">
          {library
            .filter((w) => w.readOnly)
            .map((w) => (
              <option key={w.name} value={w.name}>
                {w.title || w.name}
              </option>
            ))}
        </optgroup>
        <optgroup label="Library">
          {library
            .filter((w) => !w.readOnly)
            .map((w) => (
              <option key={w.name} value={w.name}>
                {w.name}
              </option>
            ))}
        </optgroup>
      </select>
      <button type="button" onClick={() => void save()}>
        Save
      </button>
      <button type="button" onClick={exportFile}>
        Export
      </button>
      <button type="button" onClick={() => fileInput.current?.click()}>
        Import
      </button>
      <input
        ref={fileInput}
        type="file"
        accept=".json,application/json,image/png"
        hidden
        aria-label="Import a workflow file"
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) onImportFile(file);
          e.target.value = '';
        }}
      />
      <span className="sep" />
      <button type="button" onClick={undo} disabled={!canUndo} title="Undo (Ctrl+Z)">
        Undo
      </button>
      <button type="button" onClick={redo} disabled={!canRedo} title="Redo (Ctrl+Y)">
        Redo
      </button>
      <button type="button" onClick={onFitView} title="Fit view">
        Fit
      </button>
      <button
        type="button"
        disabled={selected.length === 0}
        title="Group the selected nodes (Ctrl+G)"
        onClick={() => groupSelection(window.prompt('Group title:', 'Group') ?? 'Group')}
      >
        Group
      </button>
      <span className="sep" />
      {issueCount > 0 && (
        <span className="badge invalid" title="Problems are marked on their nodes">
          {issueCount} problem{issueCount > 1 ? 's' : ''}
        </span>
      )}
      <button type="button" className="primary" onClick={() => void runWorkflow()} title="Run (Ctrl+Enter)">
        ▶ Run
      </button>
      <button
        type="button"
        disabled={selected.length === 0}
        onClick={() => void runWorkflow(selected)}
        title="Run the selected nodes and what they need"
      >
        Run to selected
      </button>
      {running && (
        <button type="button" onClick={() => void cancelRun(run.runId)}>
          Cancel
        </button>
      )}
      {run && (
        <div
          className={`overall ${run.status}`}
          role="progressbar"
          aria-label="Run progress"
          aria-valuenow={Math.round(progress * 100)}
          aria-valuemin={0}
          aria-valuemax={100}
          data-status={run.status}
          data-run-id={run.runId}
        >
          <div style={{ width: `${progress * 100}%` }} />
          <span>{run.status}</span>
        </div>
      )}
    </header>
  );
}
