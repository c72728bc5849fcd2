import type { SerializedNodeDefinition, SocketType } from '@diffedit/core';
import { useEffect, useMemo, useRef, useState } from 'react';

import { useEditor } from '../../store/editor.js';
import { compatibleTargets } from '../../util/connections.js';

export interface SearchRequest {
  /** Where on screen to show the box, and where in the flow to put the node. */
  screen: { x: number; y: number };
  flow: { x: number; y: number };
  /** Set when a link was dropped on empty canvas: only nodes that can take it are listed. */
  link?: { nodeId: string; handle: string; side: 'source' | 'target'; types: SocketType[] };
}

export function matchesQuery(row: SerializedNodeDefinition, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (q === '') return true;
  return [row.type, row.title, row.category, row.description].some((s) => s.toLowerCase().includes(q));
}

export function SearchPopup({
  request,
  onClose,
}: {
  request: SearchRequest;
  onClose: () => void;
}): React.JSX.Element {
  const catalog = useEditor((s) => s.catalog);
  const addNode = useEditor((s) => s.addNode);
  const connect = useEditor((s) => s.connect);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  const candidates = useMemo(() => {
    if (!catalog) return [];
    const link = request.link;
    const compatible = link
      ? new Map(
          compatibleTargets(catalog, link.side === 'source' ? 'input' : 'output', link.types).map((c) => [
            c.type,
            c.handle,
          ]),
        )
      : undefined;
    return [...catalog.byType.values()]
      .filter((row) => (compatible ? compatible.has(row.type) : true) && matchesQuery(row, query))
      .map((row) => ({ row, handle: compatible?.get(row.type) }));
  }, [catalog, request.link, query]);

  const pick = (index: number): void => {
    const item = candidates[index];
    if (!item) return;
    const id = addNode(item.row.type, request.flow);
    const link = request.link;
    if (link && item.handle) {
      if (link.side === 'source')
        connect({ source: link.nodeId, sourceHandle: link.handle, target: id, targetHandle: item.handle });
      else connect({ source: id, sourceHandle: item.handle, target: link.nodeId, targetHandle: link.handle });
    }
    onClose();
  };

  return (
    <div
      className="search-popup"
      style={{ left: request.screen.x, top: request.screen.y }}
      role="dialog"
      aria-label="Add a node"
    >
      <input
        ref={input}
        placeholder={request.link ? `Nodes taking ${request.link.types.join('/')}…` : 'Search nodes…'}
        aria-label="Search nodes"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onClose();
          else if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, candidates.length - 1));
          else if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
          else if (e.key === 'Enter') pick(active);
          else return;
          e.preventDefault();
        }}
      />
      <ul role="listbox">
        {candidates.map(({ row }, i) => (
          <li
            key={row.type}
            role="option"
            aria-selected={i === active}
            className={i === active ? 'active' : ''}
            onMouseEnter={() => setActive(i)}
            onMouseDown={(e) => {
              e.preventDefault();
              pick(i);
            }}
            data-type={row.type}
          >
            <b>{row.title}</b> <small>{row.category}</small>
          </li>
        ))}
        {candidates.length === 0 && <li className="empty">No matching node</li>}
      </ul>
    </div>
  );
}
