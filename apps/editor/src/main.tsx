import '@xyflow/react/dist/style.css';
import './styles.css';

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { initToken } from './api/auth.js';
import { App } from './App.js';

// Before anything talks to the server: take a `?token=` from the address (and remove it from there).
initToken();

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
