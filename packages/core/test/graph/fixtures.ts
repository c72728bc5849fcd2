import { defineNode, NodeCatalog, NodeInputError, serviceKey } from '@diffedit/core';
import type { NodeDefinition, RunEvent, WorkflowInput } from '@diffedit/core';

export const GreetingKey = serviceKey<{ greet(name: string): string }>('greeting');

/** Test-only nodes; `runs` counts how often each node id actually ran. */
export function createTestCatalog(): { catalog: NodeCatalog; runs: Map<string, number> } {
  const runs = new Map<string, number>();
  const count = (id: string): void => void runs.set(id, (runs.get(id) ?? 0) + 1);

  const defs: NodeDefinition[] = [
    defineNode({
      type: 'Const',
      version: 1,
      title: 'Const',
      category: 'test',
      description: 'a number',
      inputs: {},
      params: { value: { kind: 'number', default: 1, min: -1000, max: 1000 } },
      outputs: { value: { type: 'NUMBER' } },
      async run(ctx, _inputs, params) {
        count(ctx.nodeId);
        return { value: params.value };
      },
    }),
    defineNode({
      type: 'Add',
      version: 1,
      title: 'Add',
      category: 'test',
      description: 'a + b',
      inputs: { a: { type: 'NUMBER' }, b: { type: 'NUMBER', required: false } },
      params: {},
      outputs: { sum: { type: 'NUMBER' } },
      async run(ctx, inputs) {
        count(ctx.nodeId);
        return { sum: inputs.a + (inputs.b ?? 0) };
      },
    }),
    defineNode({
      type: 'Noise',
      version: 1,
      title: 'Noise',
      category: 'test',
      description: 'a pseudo-random number from a seed',
      inputs: {},
      params: {
        seed: { kind: 'seed', default: 0 },
        mode: { kind: 'enum', options: ['a', 'b'], default: 'a' },
      },
      outputs: { value: { type: 'NUMBER' } },
      async run(ctx, _inputs, params) {
        count(ctx.nodeId);
        return { value: ((params.seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 };
      },
    }),
    defineNode({
      type: 'Sink',
      version: 1,
      title: 'Sink',
      category: 'test',
      description: 'output node writing its value to a file',
      output: true,
      inputs: { value: { type: 'ANY' } },
      params: { flag: { kind: 'bool', default: false } },
      outputs: {},
      async run(ctx, inputs) {
        count(ctx.nodeId);
        ctx.emitFile({
          name: `${ctx.nodeId}.txt`,
          mime: 'text/plain',
          bytes: new TextEncoder().encode(String(inputs.value)),
        });
        return {};
      },
    }),
    defineNode({
      type: 'Slow',
      version: 1,
      title: 'Slow',
      category: 'test',
      description: 'reports progress over several steps, honouring cancellation',
      inputs: { value: { type: 'NUMBER', required: false } },
      params: {
        steps: { kind: 'int', default: 5, min: 1, max: 1000 },
        stepMs: { kind: 'int', default: 5, min: 0 },
      },
      outputs: { value: { type: 'NUMBER' } },
      async run(ctx, inputs, params) {
        count(ctx.nodeId);
        for (let step = 1; step <= params.steps; step++) {
          await new Promise((resolve) => setTimeout(resolve, params.stepMs));
          ctx.progress(step, params.steps);
        }
        return { value: inputs.value ?? 0 };
      },
    }),
    defineNode({
      type: 'Hang',
      version: 1,
      title: 'Hang',
      category: 'test',
      description: 'never finishes and ignores its signal',
      inputs: {},
      params: {},
      outputs: { value: { type: 'NUMBER' } },
      async run(ctx) {
        count(ctx.nodeId);
        return new Promise<{ value: number }>(() => {});
      },
    }),
    defineNode({
      type: 'Fail',
      version: 1,
      title: 'Fail',
      category: 'test',
      description: 'rejects its input',
      inputs: { value: { type: 'NUMBER', required: false } },
      params: { message: { kind: 'string', default: 'bad value' } },
      outputs: { value: { type: 'NUMBER' } },
      async run(ctx, _inputs, params) {
        count(ctx.nodeId);
        throw new NodeInputError('value', params.message);
      },
    }),
    defineNode({
      type: 'Blob',
      version: 1,
      title: 'Blob',
      category: 'test',
      description: 'a Float32Array of `length` copies of its seed',
      inputs: {},
      params: { length: { kind: 'int', default: 256, min: 0 }, seed: { kind: 'seed', default: 0 } },
      outputs: { data: { type: 'ANY' } },
      async run(ctx, _inputs, params) {
        count(ctx.nodeId);
        return { data: { shape: [params.length], data: new Float32Array(params.length).fill(params.seed) } };
      },
    }),
    defineNode({
      type: 'Words',
      version: 1,
      title: 'Words',
      category: 'test',
      description: 'a TEXT value',
      inputs: {},
      params: { text: { kind: 'text', default: 'cat' } },
      outputs: { text: { type: 'TEXT' } },
      async run(ctx, _inputs, params) {
        count(ctx.nodeId);
        return { text: params.text };
      },
    }),
    defineNode({
      type: 'Join',
      version: 1,
      title: 'Join',
      category: 'test',
      description: 'joins a TEXT_LIST; accepts TEXT or EMBEDDING as prefix',
      inputs: { items: { type: 'TEXT_LIST' }, prefix: { type: ['TEXT', 'EMBEDDING'], required: false } },
      params: {},
      outputs: { text: { type: 'TEXT' } },
      async run(ctx, inputs) {
        count(ctx.nodeId);
        return { text: `${String(inputs.prefix ?? '')}${inputs.items.join('|')}` };
      },
    }),
    defineNode({
      type: 'Greet',
      version: 1,
      title: 'Greet',
      category: 'test',
      description: 'uses a service',
      inputs: {},
      params: { name: { kind: 'string', default: 'world' } },
      outputs: { text: { type: 'TEXT' } },
      async run(ctx, _inputs, params) {
        count(ctx.nodeId);
        return { text: ctx.services.get(GreetingKey).greet(params.name) };
      },
    }),
    defineNode({
      type: 'ReadFile',
      version: 1,
      title: 'ReadFile',
      category: 'test',
      description: 'reads a file param',
      inputs: {},
      params: { path: { kind: 'file', default: 'a.txt' } },
      outputs: { text: { type: 'TEXT' } },
      async run(ctx, _inputs, params) {
        count(ctx.nodeId);
        return { text: `read ${params.path}` };
      },
    }),
  ];
  return { catalog: new NodeCatalog(defs), runs };
}

type NodeSpec = { id: string; type: string; params?: Record<string, unknown> };

/** Builds a workflow document; edges are written 'from.output->to.input'. */
export function workflow(nodes: NodeSpec[], edges: string[] = []): WorkflowInput {
  return {
    format: 'diffedit-studio.workflow',
    version: 1,
    name: 'test',
    nodes: nodes.map((n) => ({ id: n.id, type: n.type, params: n.params ?? {} })),
    edges: edges.map((text, i) => {
      const [from, to] = text.split('->');
      const [fromNode, output] = from.split('.');
      const [toNode, input] = to.split('.');
      return { id: `e${i}`, from: { node: fromNode, output }, to: { node: toNode, input } };
    }),
  };
}

/** Collects events and exposes the ids per event type. */
export function eventLog(): {
  events: RunEvent[];
  onEvent: (e: RunEvent) => void;
  ids: (type: RunEvent['type']) => string[];
} {
  const events: RunEvent[] = [];
  return {
    events,
    onEvent: (e) => void events.push(e),
    ids: (type) => events.filter((e) => e.type === type).map((e) => ('nodeId' in e ? String(e.nodeId) : '')),
  };
}
