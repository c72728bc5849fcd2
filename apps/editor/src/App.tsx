import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useCallback, useEffect, useState } from 'react';

import { getToken, onUnauthorized, setToken } from './api/auth.js';
import { api } from './api/client.js';
import { resumeRun, runWorkflow, startEvents, uploadToParam } from './api/runner.js';
import { Canvas } from './components/flow/Canvas.js';
import { Legend } from './components/panels/Legend.js';
import { Palette } from './components/panels/Palette.js';
import { ResultsPanel } from './components/panels/ResultsPanel.js';
import { RunsPanel } from './components/panels/RunsPanel.js';
import { Toolbar } from './components/panels/Toolbar.js';
import { useEditor } from './store/editor.js';
import { editorCatalog } from './util/catalog.js';
import { canvasToWorkflow } from './util/convert.js';
import { importFileBytes, importJsonText } from './util/import-export.js';

const AUTOSAVE = 'diffedit.autosave';
/** Whether boot has put the saved (or default) workflow on the canvas: auto-save waits for it. */
let opened = false;
const DEFAULT_TEMPLATE = 'diffedit-prompts';

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return (
    !!el &&
    (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable)
  );
}

/** Keyboard shortcuts; fields keep their own keys except Ctrl+Enter (run). */
function useShortcuts(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const s = useEditor.getState();
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.key === 'Enter') {
        e.preventDefault();
        void runWorkflow();
        return;
      }
      if (isTyping(e.target)) return;
      const key = e.key.toLowerCase();
      if (mod && key === 'z' && !e.shiftKey) s.undo();
      else if (mod && (key === 'y' || (key === 'z' && e.shiftKey))) s.redo();
      else if (mod && key === 'c') s.copy();
      else if (mod && key === 'v') s.paste();
      else if (mod && key === 'd') s.duplicate();
      else if (mod && key === 'g') s.groupSelection();
      else if (e.key === 'Delete' || e.key === 'Backspace') s.deleteSelection();
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

/** Every change of the open workflow is kept in the browser, so a reload loses nothing. */
function useAutosave(): void {
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const save = (): void => {
      // Until boot has opened the saved workflow (a refused token, an unreachable server) there is nothing of
      // the user's on the canvas: saving it would replace their workflow with an empty one.
      if (!opened) return;
      localStorage.setItem(AUTOSAVE, JSON.stringify(canvasToWorkflow(useEditor.getState().doc)));
    };
    const unsubscribe = useEditor.subscribe((state, previous) => {
      if (state.doc === previous.doc || !state.catalog) return;
      clearTimeout(timer);
      timer = setTimeout(save, 200);
    });
    window.addEventListener('beforeunload', save);
    return () => {
      unsubscribe();
      window.removeEventListener('beforeunload', save);
    };
  }, []);
}

async function boot(): Promise<void> {
  const store = useEditor.getState();
  store.setCatalog(editorCatalog(await api.nodes()));
  const saved = localStorage.getItem(AUTOSAVE);
  const restored = saved ? importJsonText(saved) : undefined;
  if (restored?.ok) store.load(restored.workflow);
  else {
    const parsed = importJsonText(JSON.stringify(await api.loadWorkflow(DEFAULT_TEMPLATE)));
    if (parsed.ok) store.load(parsed.workflow);
  }
  // Opening is not an edit: start with an empty undo history.
  useEditor.setState({ history: { past: [], future: [] } });
  opened = true;
  startEvents();
  await resumeRun();
}

function Notice(): React.JSX.Element | null {
  const notice = useEditor((s) => s.notice);
  const [hidden, setHidden] = useState<number>();
  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => setHidden(notice.id), notice.kind === 'error' ? 8000 : 3000);
    return () => clearTimeout(t);
  }, [notice]);
  if (!notice || hidden === notice.id) return null;
  return (
    <div
      className={`notice ${notice.kind}`}
      role={notice.kind === 'error' ? 'alert' : 'status'}
      onClick={() => setHidden(notice.id)}
    >
      {notice.text}
    </div>
  );
}

/** Asks for the server's token when it refused ours (or wanted one); the page then starts again with it. */
function SignIn(): React.JSX.Element {
  const [value, setValue] = useState('');
  return (
    <div className="sign-in-backdrop">
      <form
        className="sign-in"
        role="dialog"
        aria-label="Sign in"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim() === '') return;
          setToken(value.trim());
          window.location.reload();
        }}
      >
        <h2>This server needs a token</h2>
        <p>
          {getToken() === undefined ? 'Enter' : 'The token was refused. Enter'} the token it was started with
          (<code>diffedit serve --token</code>); the URL it printed carries it.
        </p>
        <label>
          Token
          <input
            type="password"
            autoComplete="current-password"
            autoFocus
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
        </label>
        <button type="submit">Sign in</button>
      </form>
    </div>
  );
}

function Editor(): React.JSX.Element {
  const flow = useReactFlow();
  const [bootError, setBootError] = useState<string>();
  const [signIn, setSignIn] = useState(false);
  useEffect(() => onUnauthorized(() => setSignIn(true)), []);
  useShortcuts();
  useAutosave();
  useEffect(() => {
    boot().then(
      () => setTimeout(() => void flow.fitView({ padding: 0.1 }), 50),
      (error: Error) => setBootError(error.message),
    );
  }, [flow]);

  const importFile = useCallback(
    async (file: File, onNode?: string) => {
      // An image dropped on a node with a file param (LoadImage) is uploaded into it.
      const state = useEditor.getState();
      const target = state.doc.nodes.find((n) => n.id === onNode);
      const fileParam =
        target && state.catalog?.byType.get(target.data.type)?.params.find((p) => p.kind === 'file');
      if (target && fileParam && file.type.startsWith('image/')) {
        await uploadToParam(target.id, fileParam.name, file);
        return;
      }
      const result = importFileBytes(file.name, new Uint8Array(await file.arrayBuffer()));
      const store = useEditor.getState();
      if (!result.ok) return store.notify('error', `Import failed: ${result.message}`);
      store.load(result.workflow);
      store.notify('info', `Opened ${result.workflow.name} from ${file.name}`);
      setTimeout(() => void flow.fitView({ padding: 0.1 }), 50);
    },
    [flow],
  );

  const addAtCenter = (type: string): void => {
    const el = document.querySelector('.canvas')?.getBoundingClientRect();
    const point = el ? { x: el.left + el.width / 2, y: el.top + el.height / 2 } : { x: 400, y: 300 };
    useEditor.getState().addNode(type, flow.screenToFlowPosition(point));
  };

  return (
    <div className="app">
      <Toolbar
        onImportFile={(f) => void importFile(f)}
        onFitView={() => void flow.fitView({ padding: 0.1 })}
        onNew={() => {
          useEditor.getState().load({
            format: 'diffedit-studio.workflow',
            version: 1,
            name: 'Untitled',
            description: '',
            nodes: [],
            edges: [],
          });
          void flow.setViewport({ x: 0, y: 0, zoom: 1 });
        }}
      />
      <div className="main">
        <Palette onAdd={addAtCenter} />
        <Canvas onDropFile={(f, onNode) => void importFile(f, onNode)} />
        <aside className="side">
          <ResultsPanel />
          <RunsPanel />
          <Legend />
        </aside>
      </div>
      {bootError && !signIn && <div className="notice error">Cannot reach the server: {bootError}</div>}
      {signIn && <SignIn />}
      <Notice />
    </div>
  );
}

export function App(): React.JSX.Element {
  return (
    <ReactFlowProvider>
      <Editor />
    </ReactFlowProvider>
  );
}
