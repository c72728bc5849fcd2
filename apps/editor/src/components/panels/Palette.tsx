import { useState } from 'react';

import { useEditor } from '../../store/editor.js';
import { PALETTE_MIME } from '../flow/Canvas.js';
import { matchesQuery } from '../flow/SearchPopup.js';

/** Node types by category, filterable; drag one onto the canvas (or press Enter on it to add it). */
export function Palette({ onAdd }: { onAdd: (type: string) => void }): React.JSX.Element {
  const catalog = useEditor((s) => s.catalog);
  const [query, setQuery] = useState('');
  if (!catalog) return <aside className="palette">Loading nodes…</aside>;
  return (
    <aside className="palette" aria-label="Node palette">
      <input
        placeholder="Filter nodes…"
        aria-label="Filter nodes"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      {[...catalog.categories].map(([category, rows]) => {
        const shown = rows.filter((r) => matchesQuery(r, query));
        if (shown.length === 0) return null;
        return (
          <section key={category}>
            <h3>{category}</h3>
            {shown.map((row) => (
              <button
                type="button"
                key={row.type}
                className="palette-item"
                draggable
                title={row.description}
                data-type={row.type}
                onDragStart={(e) => {
                  e.dataTransfer.setData(PALETTE_MIME, row.type);
                  e.dataTransfer.effectAllowed = 'move';
                }}
                onClick={() => onAdd(row.type)}
              >
                {row.title}
              </button>
            ))}
          </section>
        );
      })}
    </aside>
  );
}
