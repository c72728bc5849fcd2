import type { SocketType } from '@diffedit/core';
import { Background, Controls, MiniMap, ReactFlow, useReactFlow } from '@xyflow/react';
import type { FinalConnectionState, NodeTypes } from '@xyflow/react';
import { useCallback, useMemo, useState } from 'react';

import { useEditor } from '../../store/editor.js';
import { inputTypes, outputType } from '../../util/catalog.js';
import { socketColor } from '../../util/colors.js';
import { Groups } from './Groups.js';
import { NodeView } from './NodeView.js';
import { SearchPopup } from './SearchPopup.js';
import type { SearchRequest } from './SearchPopup.js';

const nodeTypes: NodeTypes = { diffedit: NodeView };
export const PALETTE_MIME = 'application/x-diffedit-node';

export function Canvas({
  onDropFile,
}: {
  onDropFile: (file: File, onNode?: string) => void;
}): React.JSX.Element {
  const nodes = useEditor((s) => s.doc.nodes);
  const edges = useEditor((s) => s.doc.edges);
  const catalog = useEditor((s) => s.catalog);
  const onNodesChange = useEditor((s) => s.onNodesChange);
  const onEdgesChange = useEditor((s) => s.onEdgesChange);
  const connect = useEditor((s) => s.connect);
  const addNode = useEditor((s) => s.addNode);
  const flow = useReactFlow();
  const [search, setSearch] = useState<SearchRequest>();

  // Edges take the colour of the type they carry.
  const styledEdges = useMemo(
    () =>
      edges.map((e) => {
        const source = nodes.find((n) => n.id === e.source);
        const type =
          source && catalog ? outputType(catalog, source.data.type, e.sourceHandle ?? '') : undefined;
        return { ...e, style: { stroke: socketColor(type), strokeWidth: e.selected ? 3 : 2 } };
      }),
    [edges, nodes, catalog],
  );

  const openSearch = useCallback(
    (clientX: number, clientY: number, link?: SearchRequest['link']) => {
      setSearch({
        screen: { x: clientX, y: clientY },
        flow: flow.screenToFlowPosition({ x: clientX, y: clientY }),
        link,
      });
    },
    [flow],
  );

  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      // A link released on empty canvas: offer the nodes that can take it.
      if (state.toNode || !state.fromNode || !state.fromHandle?.id || !catalog) return;
      const point = 'changedTouches' in event ? event.changedTouches[0] : event;
      const type = state.fromNode.data.type as string;
      const side = state.fromHandle.type;
      const handle = state.fromHandle.id;
      const types: SocketType[] | undefined =
        side === 'source'
          ? [outputType(catalog, type, handle)].filter((t): t is SocketType => t !== undefined)
          : inputTypes(catalog, type, handle);
      if (!types || types.length === 0) return;
      openSearch(point.clientX, point.clientY, { nodeId: state.fromNode.id, handle, side, types });
    },
    [catalog, openSearch],
  );

  return (
    <div
      className="canvas"
      onDoubleClick={(e) => {
        if ((e.target as HTMLElement).classList.contains('react-flow__pane'))
          openSearch(e.clientX, e.clientY);
      }}
      onDragOver={(e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = e.dataTransfer.types.includes(PALETTE_MIME) ? 'move' : 'copy';
      }}
      onDrop={(e) => {
        e.preventDefault();
        const type = e.dataTransfer.getData(PALETTE_MIME);
        if (type) {
          addNode(type, flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
          return;
        }
        const file = e.dataTransfer.files[0];
        const onNode =
          (e.target as HTMLElement).closest('.react-flow__node')?.getAttribute('data-id') ?? undefined;
        if (file) onDropFile(file, onNode);
      }}
    >
      <ReactFlow
        nodes={nodes}
        edges={styledEdges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={(c) => {
          if (c.sourceHandle && c.targetHandle)
            connect({
              source: c.source,
              sourceHandle: c.sourceHandle,
              target: c.target,
              targetHandle: c.targetHandle,
            });
        }}
        onConnectEnd={onConnectEnd}
        deleteKeyCode={null}
        zoomOnDoubleClick={false}
        multiSelectionKeyCode={['Shift', 'Meta', 'Control']}
        minZoom={0.1}
        fitView
        colorMode="dark"
        proOptions={{ hideAttribution: true }}
      >
        <Groups />
        <Background gap={20} />
        <MiniMap pannable zoomable nodeColor={(n) => (n.selected ? '#ffd54f' : '#5c6bc0')} />
        <Controls />
      </ReactFlow>
      {search && <SearchPopup request={search} onClose={() => setSearch(undefined)} />}
    </div>
  );
}
