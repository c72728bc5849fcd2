import { ViewportPortal } from '@xyflow/react';

import { useEditor } from '../../store/editor.js';

const PAD = 24;

/** The format's groups, drawn as labelled boxes behind their nodes. */
export function Groups(): React.JSX.Element {
  const groups = useEditor((s) => s.doc.groups);
  const nodes = useEditor((s) => s.doc.nodes);
  const ungroup = useEditor((s) => s.ungroup);
  return (
    <ViewportPortal>
      {groups.map((group) => {
        const members = nodes.filter((n) => group.nodes.includes(n.id));
        if (members.length === 0) return null;
        const x0 = Math.min(...members.map((n) => n.position.x)) - PAD;
        const y0 = Math.min(...members.map((n) => n.position.y)) - PAD - 20;
        const x1 = Math.max(...members.map((n) => n.position.x + (n.measured?.width ?? 260))) + PAD;
        const y1 = Math.max(...members.map((n) => n.position.y + (n.measured?.height ?? 160))) + PAD;
        return (
          <div
            key={group.id}
            className="group-box"
            style={{
              transform: `translate(${x0}px, ${y0}px)`,
              width: x1 - x0,
              height: y1 - y0,
              borderColor: group.color,
            }}
          >
            <span className="group-title">
              {group.title}
              <button
                type="button"
                className="small"
                title="Ungroup"
                aria-label={`ungroup ${group.title}`}
                onClick={() => ungroup(group.id)}
              >
                ×
              </button>
            </span>
          </div>
        );
      })}
    </ViewportPortal>
  );
}
