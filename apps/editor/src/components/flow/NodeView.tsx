import { Handle, Position } from '@xyflow/react';
import type { NodeProps } from '@xyflow/react';
import type { OutputPreview } from '@diffedit/core';
import { memo } from 'react';

import { useEditor } from '../../store/editor.js';
import { socketColor } from '../../util/colors.js';
import type { FlowNode } from '../../util/convert.js';
import { FileImage, FileLink } from '../FileImage.js';
import { useModels } from '../panels/models.js';
import { Widget } from './Widgets.js';

const PHASE_LABEL: Record<string, string> = {
  queued: 'queued',
  running: 'running',
  cached: 'cached',
  done: 'done',
  error: 'error',
  cancelled: 'cancelled',
};

function NodeViewImpl({ id, data, selected }: NodeProps<FlowNode>): React.JSX.Element {
  const row = useEditor((s) => s.catalog?.byType.get(data.type));
  const spec = useEditor((s) => s.catalog?.specs.get(data.type));
  const issues = useEditor((s) => s.issues[id]);
  const stale = useEditor((s) => s.stale.has(id));
  const hasRunInfo = useEditor((s) => s.knownKeys.size > 0);
  const runState = useEditor((s) => s.run?.nodes[id]);
  const previews = useEditor((s) => s.previews[id]);
  const models = useModels();

  const fieldIssue = (field: string): string | undefined => {
    const runError = runState?.error?.field === field ? runState.error.message : undefined;
    return runError ?? issues?.find((i) => i.field === field && i.code !== 'invalid_param')?.message;
  };
  // Field problems show under their widget; an unknown type has its own banner.
  const nodeIssues = (issues ?? []).filter(
    (i) =>
      i.code !== 'unknown_node_type' &&
      (i.field === undefined || !row?.params.some((p) => p.name === i.field)),
  );
  const phase = runState?.phase;
  const classes = ['dnode', phase ? `phase-${phase}` : '', selected ? 'selected' : '', row ? '' : 'unknown'];

  return (
    <div className={classes.join(' ')} data-node-id={id} data-node-type={data.type} data-phase={phase ?? ''}>
      <header>
        <span className="title">{data.title || row?.title || data.type}</span>
        <span className="node-id">{id}</span>
        {phase && <span className={`badge phase ${phase}`}>{PHASE_LABEL[phase]}</span>}
        {hasRunInfo && stale && phase !== 'running' && (
          <span className="badge stale" title="Changed since the last run: this node would run again">
            stale
          </span>
        )}
      </header>
      {!row && (
        <div className="node-error">Unknown node type “{data.type}” — not in this server’s catalog</div>
      )}
      {phase === 'running' && runState?.total ? (
        <div
          className="progress"
          role="progressbar"
          aria-valuemin={0}
          aria-valuemax={runState.total}
          aria-valuenow={runState.step ?? 0}
        >
          <div style={{ width: `${(100 * (runState.step ?? 0)) / runState.total}%` }} />
          <span>
            {runState.step ?? 0}/{runState.total}
          </span>
        </div>
      ) : null}
      <div className="sockets">
        <div className="inputs">
          {(row?.inputs ?? []).map((input) => (
            <div
              key={input.name}
              className="socket-row in"
              title={`${input.types.join(' | ')}${input.required ? '' : ' (optional)'}`}
            >
              <Handle
                type="target"
                position={Position.Left}
                id={input.name}
                style={{ background: socketColor(input.types[0]) }}
                className={input.required ? '' : 'optional'}
              />
              <span>{input.label ?? input.name}</span>
            </div>
          ))}
        </div>
        <div className="outputs">
          {(row?.outputs ?? []).map((output) => (
            <div key={output.name} className="socket-row out" title={output.type}>
              <span>{output.label ?? output.name}</span>
              <Handle
                type="source"
                position={Position.Right}
                id={output.name}
                style={{ background: socketColor(output.type) }}
              />
            </div>
          ))}
        </div>
      </div>
      {row && row.params.length > 0 && (
        <div className="widgets">
          {row.params.map((param) => (
            <Widget
              key={param.name}
              nodeId={id}
              param={param}
              spec={spec?.params[param.name]}
              value={data.params[param.name]}
              error={fieldIssue(param.name)}
              models={models}
            />
          ))}
        </div>
      )}
      {nodeIssues.map((issue, i) => (
        <div key={i} className="node-error" role="alert">
          {issue.message}
        </div>
      ))}
      {runState?.error && runState.error.field === undefined && (
        <div className="node-error" role="alert">
          {runState.error.code === 'internal_error' ? 'Internal error: ' : ''}
          {runState.error.message}
        </div>
      )}
      {runState?.warnings.map((w, i) => (
        <div key={i} className="node-warning">
          ⚠ {w.message}
        </div>
      ))}
      {phase === 'running' && runState?.preview && (
        <FileImage className="preview latent-preview" src={runState.preview} alt="latent preview" />
      )}
      {previews && row && (
        <OutputPreviews
          nodeId={id}
          outputs={row.outputs.map((o) => o.name)}
          previews={previews}
          // From an earlier run: the node would compute something else now, or is computing it.
          old={(hasRunInfo && stale) || phase === 'queued' || phase === 'running'}
        />
      )}
      {runState && phase !== 'running' && runState.images.length > 0 && (
        <div className="images">
          {runState.images.map((src) => (
            <FileLink key={src} href={src} target="_blank" rel="noreferrer">
              <FileImage className="preview" src={src} alt={`${id} output`} />
            </FileLink>
          ))}
        </div>
      )}
    </div>
  );
}

/** A preview of each IMAGE and MASK output, in the order of the node's outputs, named when there are several. */
function OutputPreviews({
  nodeId,
  outputs,
  previews,
  old,
}: {
  nodeId: string;
  outputs: string[];
  previews: Record<string, OutputPreview>;
  old: boolean;
}): React.JSX.Element | null {
  const shown = outputs.filter((name) => previews[name] !== undefined);
  if (shown.length === 0) return null;
  return (
    <div className={`output-previews${old ? ' old' : ''}`}>
      {shown.map((name) => {
        const p = previews[name];
        const size = `${p.sourceWidth}×${p.sourceHeight}${p.batch > 1 ? ` ×${p.batch}` : ''}`;
        return (
          <figure
            key={name}
            data-output={name}
            data-file-id={p.fileId}
            className={p.socketType.toLowerCase()}
          >
            <FileImage
              src={p.url}
              alt={`${nodeId}.${name} preview`}
              width={p.width}
              height={p.height}
              title={`${name}: ${p.socketType} ${size}${old ? ' (from an earlier run)' : ''}`}
            />
            {shown.length > 1 && <figcaption>{name}</figcaption>}
          </figure>
        );
      })}
    </div>
  );
}

export const NodeView = memo(NodeViewImpl);
