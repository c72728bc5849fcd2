import { assetUrl, checkParamValue, MAX_SEED } from '@diffedit/core';
import type { ParamSpec, ParamValue, SerializedParam } from '@diffedit/core';
import { useState } from 'react';

import { api } from '../../api/client.js';
import { uploadToParam } from '../../api/runner.js';
import { FileImage } from '../FileImage.js';
import type { ModelListing } from '@diffedit/core';
import { useEditor } from '../../store/editor.js';

interface WidgetProps {
  nodeId: string;
  param: SerializedParam;
  spec: ParamSpec | undefined;
  value: ParamValue | undefined;
  /** Error from validation or the last run for this field. */
  error?: string;
  /** The server's models folder; undefined while loading. */
  models: ModelListing[] | undefined;
}

/** Models whose role fits a model param (all of them when the param names no family). */
function fittingModels(param: SerializedParam, models: readonly ModelListing[]): ModelListing[] {
  return models.filter((m) => !param.modelType || !m.role || m.role === param.modelType);
}

function missingModel(
  param: SerializedParam,
  value: ParamValue | undefined,
  models: ModelListing[] | undefined,
): string | undefined {
  if (param.kind !== 'model' || models === undefined || typeof value !== 'string') return undefined;
  return models.some((m) => m.name === value)
    ? undefined
    : `model '${value}' is not in the server's models folder`;
}

/** Parses what was typed into a number field; keeps the text when it is not a number (marked invalid). */
function parseNumber(text: string): ParamValue {
  const trimmed = text.trim();
  if (trimmed === '') return text;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : text;
}

export function Widget({ nodeId, param, spec, value, error, models }: WidgetProps): React.JSX.Element {
  const setParam = useEditor((s) => s.setParam);
  const endEdit = useEditor((s) => s.endEdit);
  const fieldId = `${nodeId}--${param.name}`;
  const problem =
    error ?? (spec ? checkParamValue(spec, value) : undefined) ?? missingModel(param, value, models);
  const set = (v: ParamValue): void => setParam(nodeId, param.name, v);
  const label = param.label ?? param.name.replace(/_/g, ' ');
  let control: React.JSX.Element;
  switch (param.kind) {
    case 'number':
    case 'int': {
      const hasRange = param.min !== undefined && param.max !== undefined;
      const step =
        param.step ?? (param.kind === 'int' ? 1 : hasRange ? (param.max! - param.min!) / 100 : 0.1);
      control = (
        <div className="num">
          {hasRange && (
            <input
              type="range"
              className="nodrag"
              aria-label={`${label} slider`}
              min={param.min}
              max={param.max}
              step={step}
              value={typeof value === 'number' ? value : 0}
              onChange={(e) => set(Number(e.target.value))}
            />
          )}
          <input
            id={fieldId}
            className="nodrag"
            type="text"
            inputMode="decimal"
            value={String(value ?? '')}
            onChange={(e) => set(parseNumber(e.target.value))}
          />
        </div>
      );
      break;
    }
    case 'seed':
      control = (
        <div className="num">
          <input
            id={fieldId}
            className="nodrag"
            type="text"
            inputMode="numeric"
            value={String(value ?? '')}
            onChange={(e) => set(parseNumber(e.target.value))}
          />
          <button
            type="button"
            className="nodrag small"
            title="Random seed"
            aria-label={`randomize ${label}`}
            onClick={() => set(Math.floor(Math.random() * Math.min(MAX_SEED, 2 ** 32)))}
          >
            ↻
          </button>
        </div>
      );
      break;
    case 'text':
      control = (
        <textarea
          id={fieldId}
          className="nodrag nowheel"
          rows={2}
          value={String(value ?? '')}
          onChange={(e) => set(e.target.value)}
        />
      );
      break;
    case 'enum':
      control = (
        <select
          id={fieldId}
          className="nodrag"
          value={String(value ?? '')}
          onChange={(e) => set(e.target.value)}
        >
          {(param.options ?? []).map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
      );
      break;
    case 'bool':
      control = (
        <input
          id={fieldId}
          className="nodrag"
          type="checkbox"
          checked={value === true}
          onChange={(e) => set(e.target.checked)}
        />
      );
      break;
    case 'model': {
      const names = fittingModels(param, models ?? []).map((m) => m.name);
      if (typeof value === 'string' && value !== '' && !names.includes(value)) names.unshift(value);
      control = (
        <select
          id={fieldId}
          className="nodrag"
          value={String(value ?? '')}
          onChange={(e) => set(e.target.value)}
        >
          {names.length === 0 && <option value="">(no models)</option>}
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
              {models === undefined || models.some((m) => m.name === n) ? '' : ' (missing)'}
            </option>
          ))}
        </select>
      );
      break;
    }
    case 'file':
      control = (
        <FileWidget
          id={fieldId}
          nodeId={nodeId}
          param={param.name}
          value={String(value ?? '')}
          onChange={set}
        />
      );
      break;
    default:
      control = (
        <input
          id={fieldId}
          className="nodrag"
          type="text"
          value={String(value ?? '')}
          onChange={(e) => set(e.target.value)}
        />
      );
  }
  const layout = param.kind === 'text' || param.kind === 'file' ? 'stacked' : 'inline';
  return (
    <div className={`widget ${layout}${problem ? ' invalid' : ''}`} data-param={param.name} onBlur={endEdit}>
      <label htmlFor={fieldId} title={param.description}>
        {label}
      </label>
      {control}
      {problem && (
        <div className="field-error" role="alert">
          {problem}
        </div>
      )}
    </div>
  );
}

/** An image param: its thumbnail, a file picker that uploads, and drop-to-upload (on the whole node too). */
function FileWidget({
  id,
  nodeId,
  param,
  value,
  onChange,
}: {
  id: string;
  nodeId: string;
  param: string;
  value: string;
  onChange: (v: string) => void;
}): React.JSX.Element {
  const [busy, setBusy] = useState(false);
  const upload = async (file: File): Promise<void> => {
    setBusy(true);
    await uploadToParam(nodeId, param, file);
    setBusy(false);
  };
  // Uploaded files are served by id, the shipped examples (assets/NAME) at /api/assets/NAME.
  const thumb = value !== '' && !value.includes('/') ? api.fileUrl(value) : (assetUrl(value) ?? '');
  return (
    <div className="file-widget nodrag">
      {thumb && (
        <FileImage
          className="thumb"
          src={thumb}
          alt=""
          onError={(e) => (e.currentTarget.style.display = 'none')}
        />
      )}
      <input id={id} type="text" value={value} onChange={(e) => onChange(e.target.value)} />
      <label className="button small">
        {busy ? '…' : 'Upload'}
        <input
          type="file"
          accept="image/png,image/jpeg,image/webp"
          hidden
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void upload(file);
          }}
        />
      </label>
    </div>
  );
}
