import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

// Placeholder until the editor issue lands: the canvas is generated from the runtime's node catalog.
function App(): React.JSX.Element {
  return (
    <main>
      <h1>DiffEdit Studio</h1>
      <p>The node editor is not built yet. Run workflows headless with the CLI.</p>
    </main>
  );
}

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
