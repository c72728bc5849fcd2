/**
 * A seeded generator of malformed workflow documents, as a clumsy or hostile user (or a broken tool) would
 * write them. Every case must be refused cleanly: `validate` and `run` exit 2 (`expect: 'invalid'`) or, for
 * documents that are well formed but cannot work at run time, `run` exits 1 (`expect: 'node-failure'`) —
 * never a crash, a hang, or a silent success. The CLI tests replay it (test/fuzz/malformed-workflows.test.ts)
 * and so does the server's (POST /api/runs).
 *
 * Stable export: generateMalformedWorkflows(seed, count?) → MalformedCase[]; MALFORMED_KINDS lists the classes.
 * It imports nothing, so any package's tests can use it.
 */

/** The classes of malformed documents; every one appears in any generated set of at least this many cases. */
export const MALFORMED_KINDS = [
  'invalid-json',
  'not-an-object',
  'wrong-envelope',
  'wrong-type',
  'unknown-node-type',
  'unknown-param',
  'unknown-socket',
  'prototype-name',
  'bad-number',
  'cycle',
  'duplicate-id',
  'dangling-edge',
  'bad-connection',
  'no-output',
  'huge-string',
  'deep-nesting',
  'big-graph',
  'node-failure',
] as const;

export type MalformedKind = (typeof MALFORMED_KINDS)[number];

export interface MalformedCase {
  /** Unique within a generated set, e.g. 'unknown-param/constructor#17'. */
  name: string;
  kind: MalformedKind;
  /** The raw document text, as a file or a request body would carry it; may be invalid JSON. */
  text: string;
  /** 'invalid': refused before running (exit 2). 'node-failure': a node fails when run (exit 1). */
  expect: 'invalid' | 'node-failure';
  /**
   * Where the problem is, when the case knows: one of the reported issues (or the run error) has this node id
   * (null: the document as a whole), and, when given, `field` is its field, a leading part of its field path
   * or one segment of it (a problem deep inside `meta` has field 'meta.editor.a.a…'; a bad id 'nodes.0.id').
   */
  where?: { nodeId: string | null; field?: string };
}

/** Kinds whose documents are megabytes: generated a few times only, so a set stays quick to replay. */
const HEAVY: ReadonlySet<MalformedKind> = new Set(['huge-string', 'deep-nesting', 'big-graph']);
const MAX_HEAVY_PER_KIND = 4;

/**
 * `count` cases (default 444) from `seed`: the same seed gives the same texts. The first cases cover every
 * kind once; the rest are drawn at random (heavy kinds at most four times each).
 */
export function generateMalformedWorkflows(seed: number, count = 444): MalformedCase[] {
  const rng = mulberry32(seed);
  const cases: MalformedCase[] = [];
  const heavyCount = new Map<MalformedKind, number>();
  const light = MALFORMED_KINDS.filter((k) => !HEAVY.has(k));
  for (let i = 0; i < count; i++) {
    let kind: MalformedKind = i < MALFORMED_KINDS.length ? MALFORMED_KINDS[i] : pick(rng, light);
    if (i >= MALFORMED_KINDS.length && rng() < 0.03) {
      const heavy = pick(rng, [...HEAVY] as MalformedKind[]);
      if ((heavyCount.get(heavy) ?? 0) < MAX_HEAVY_PER_KIND) kind = heavy;
    }
    if (HEAVY.has(kind)) heavyCount.set(kind, (heavyCount.get(kind) ?? 0) + 1);
    const made = MAKERS[kind](rng);
    cases.push({ ...made, name: `${kind}/${made.name}#${i}`, kind });
  }
  return cases;
}

type Made = Omit<MalformedCase, 'kind'>;
type Rng = () => number;
type Doc = {
  format: unknown;
  version: unknown;
  name: unknown;
  nodes: unknown;
  edges: unknown;
  [key: string]: unknown;
};
type NodeDoc = { id: unknown; type: unknown; params?: unknown; [key: string]: unknown };
type EdgeDoc = {
  id: unknown;
  from: { node: unknown; output: unknown };
  to: { node: unknown; input: unknown };
};

/** A valid text workflow: subject (Text) → prompt (TextTemplate) → show (ShowValue). */
function textWorkflow(): Doc & { nodes: NodeDoc[]; edges: EdgeDoc[] } {
  return {
    format: 'diffedit-studio.workflow',
    version: 1,
    name: 'fuzz',
    nodes: [
      { id: 'subject', type: 'Text', params: { text: 'cat' } },
      { id: 'prompt', type: 'TextTemplate', params: { template: 'a photo of a {a}' } },
      { id: 'show', type: 'ShowValue', params: { filename: 'prompt.txt' } },
    ],
    edges: [edge('e1', 'subject', 'text', 'prompt', 'a'), edge('e2', 'prompt', 'text', 'show', 'value')],
  };
}

/** A valid image workflow, but for its file: image (LoadImage) → save (SaveImage). */
function imageWorkflow(image: string): Doc & { nodes: NodeDoc[]; edges: EdgeDoc[] } {
  return {
    format: 'diffedit-studio.workflow',
    version: 1,
    name: 'fuzz image',
    nodes: [
      { id: 'image', type: 'LoadImage', params: { image, width: 64, height: 64 } },
      { id: 'save', type: 'SaveImage', params: { filename_prefix: 'fuzz' } },
    ],
    edges: [edge('e1', 'image', 'image', 'save', 'image')],
  };
}

function edge(id: string, from: string, output: string, to: string, input: string): EdgeDoc {
  return { id, from: { node: from, output }, to: { node: to, input } };
}

const json = (doc: unknown): string => JSON.stringify(doc);
const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf'];

const MAKERS: Record<MalformedKind, (rng: Rng) => Made> = {
  'invalid-json': (rng) => {
    const valid = json(textWorkflow());
    const variants: Array<[string, string]> = [
      ['empty', ''],
      ['whitespace', '  \n\t '],
      ['truncated', valid.slice(0, 1 + Math.floor(rng() * (valid.length - 2)))],
      ['trailing-comma', valid.replace(/\]\}$/, '],}')],
      ['single-quotes', valid.replace(/"/g, "'")],
      ['comment', `// a workflow\n${valid}`],
      ['two-documents', `${valid}${valid}`],
      ['garbage', String.fromCharCode(...Array.from({ length: 40 }, () => 33 + Math.floor(rng() * 90)))],
      ['nan-literal', valid.replace('"cat"', 'NaN')],
      ['bom-garbage', '\uFEFF{"format": diffedit}'],
      ['unclosed-string', '{"format": "diffedit-studio.workflow'],
    ];
    const [name, text] = pick(rng, variants);
    return { name, text, expect: 'invalid', where: { nodeId: null } };
  },

  'not-an-object': (rng) => {
    const [name, text] = pick(rng, [
      ['array', json([textWorkflow()])],
      ['number', '42'],
      ['null', 'null'],
      ['string', json('diffedit-studio.workflow')],
      ['boolean', 'true'],
      ['empty-object', '{}'],
    ] as Array<[string, string]>);
    return { name, text, expect: 'invalid', where: { nodeId: null } };
  },

  'wrong-envelope': (rng) => {
    const doc = textWorkflow();
    const variants: Array<[string, () => void, string]> = [
      ['no-format', () => delete (doc as Partial<Doc>).format, 'format'],
      ['other-format', () => (doc.format = 'comfyui.workflow'), 'format'],
      ['future-version', () => (doc.version = 2 + Math.floor(rng() * 100)), 'version'],
      ['version-string', () => (doc.version = '1'), 'version'],
      ['version-fraction', () => (doc.version = 1.5), 'version'],
      ['version-zero', () => (doc.version = 0), 'version'],
      ['no-name', () => delete (doc as Partial<Doc>).name, 'name'],
      ['no-nodes', () => delete (doc as Partial<Doc>).nodes, 'nodes'],
      ['extra-field', () => (doc.nodez = []), '$'],
    ];
    const [name, mutate, field] = pick(rng, variants);
    mutate();
    const where = field === '$' ? { nodeId: null } : { nodeId: null, field };
    return { name, text: json(doc), expect: 'invalid', where };
  },

  'wrong-type': (rng) => {
    const doc = textWorkflow();
    const loose: Doc = doc;
    const node = pick(rng, doc.nodes);
    const nodeId = node.id as string;
    const variants: Array<[string, () => void, string | null, string]> = [
      ['nodes-object', () => (loose.nodes = { subject: doc.nodes[0] }), null, 'nodes'],
      ['edges-string', () => (loose.edges = 'e1,e2'), null, 'edges'],
      ['name-number', () => (doc.name = 7), null, 'name'],
      ['node-null', () => ((doc.nodes as unknown[])[1] = null), null, 'nodes'],
      ['id-number', () => (node.id = 12), null, 'nodes'],
      ['id-with-dot', () => (node.id = 'a.b'), 'a.b', 'nodes'],
      ['params-array', () => (node.params = ['cat']), nodeId, 'params'],
      ['type-empty', () => (node.type = ''), nodeId, 'type'],
      ['position-strings', () => (node.position = { x: '1', y: '2' }), nodeId, 'position'],
      [
        'edge-from-string',
        () => ((doc.edges[0] as unknown as { from: unknown }).from = 'subject.text'),
        null,
        'edges',
      ],
      ['text-param-number', () => (doc.nodes[0].params = { text: 42 }), 'subject', 'text'],
      ['template-object', () => (doc.nodes[1].params = { template: { a: 1 } }), 'prompt', 'template'],
      ['filename-bool', () => (doc.nodes[2].params = { filename: true }), 'show', 'filename'],
    ];
    const [name, mutate, whereNode, field] = pick(rng, variants);
    mutate();
    return { name, text: json(doc), expect: 'invalid', where: { nodeId: whereNode, field } };
  },

  'unknown-node-type': (rng) => {
    const doc = textWorkflow();
    const type = pick(rng, ['KSampler', 'text', 'Texts', 'LoadImage ', ...PROTO_NAMES, 'x'.repeat(5000)]);
    const node = pick(rng, doc.nodes);
    node.type = type;
    const label = type.length > 40 ? 'very-long' : type.trim() || 'blank';
    return {
      name: label,
      text: json(doc),
      expect: 'invalid',
      where: { nodeId: node.id as string, field: 'type' },
    };
  },

  'unknown-param': (rng) => {
    const doc = textWorkflow();
    const node = pick(rng, doc.nodes);
    const param = pick(rng, ['txt', 'Text', 'seed', 'strength', '', ...PROTO_NAMES, 'p'.repeat(3000)]);
    // built as text so that '__proto__' becomes a key of the document, as it would in a file
    const text = json(doc).replace(
      `"id":"${node.id as string}","type":"${node.type as string}","params":{`,
      `"id":"${node.id as string}","type":"${node.type as string}","params":{${JSON.stringify(param)}:1,`,
    );
    const label = param.length > 40 ? 'very-long' : param || 'empty-name';
    return { name: label, text, expect: 'invalid', where: { nodeId: node.id as string } };
  },

  'unknown-socket': (rng) => {
    const doc = textWorkflow();
    const name = pick(rng, ['txt', 'image', 'TEXT', 'value ', ...PROTO_NAMES]);
    const e = pick(rng, doc.edges);
    const end = rng() < 0.5 ? 'from' : 'to';
    if (end === 'from') e.from.output = name;
    else e.to.input = name;
    const nodeId = (end === 'from' ? e.from.node : e.to.node) as string;
    return {
      name: `${end}-${name.trim()}`,
      text: json(doc),
      expect: 'invalid',
      where: { nodeId, field: name },
    };
  },

  'prototype-name': (rng) => {
    const doc = textWorkflow();
    const name = pick(rng, PROTO_NAMES);
    const variant = pick(rng, ['node-id', 'edge-id', 'type', 'input', 'output', 'param']);
    let where: MalformedCase['where'];
    let text: string;
    switch (variant) {
      case 'node-id':
        doc.nodes[0].id = name;
        doc.edges[0].from.node = name;
        where = { nodeId: name, field: 'nodes.0.id' };
        text = json(doc);
        break;
      case 'edge-id':
        doc.edges[1].id = name;
        where = { nodeId: null, field: 'edges.1.id' };
        text = json(doc);
        break;
      case 'type':
        doc.nodes[1].type = name;
        where = { nodeId: 'prompt', field: 'type' };
        text = json(doc);
        break;
      case 'input':
        doc.edges[1].to.input = name;
        where = { nodeId: 'show', field: name };
        text = json(doc);
        break;
      case 'output':
        doc.edges[0].from.output = name;
        where = { nodeId: 'subject', field: name };
        text = json(doc);
        break;
      default:
        text = json(doc).replace(
          '"params":{"text":"cat"}',
          `"params":{"text":"cat",${JSON.stringify(name)}:1}`,
        );
        where = { nodeId: 'subject', field: name };
    }
    return { name: `${variant}-${name}`, text, expect: 'invalid', where };
  },

  'bad-number': (rng) => {
    const doc = textWorkflow();
    // ImageGrid rows/cols are ints in [1, 64]; LoadImage width/height ints in [0, 4096]
    doc.nodes.push({ id: 'grid', type: 'ImageGrid', params: { rows: 1, cols: 1 } });
    doc.nodes.push({ id: 'img', type: 'LoadImage', params: { image: 'x.png', width: 64, height: 64 } });
    doc.edges.push(edge('e3', 'img', 'image', 'grid', 'a'), edge('e4', 'grid', 'image', 'show', 'value'));
    doc.edges.splice(1, 1); // show takes the grid now
    const target = pick(rng, [
      ['grid', 'rows'],
      ['grid', 'cols'],
      ['img', 'width'],
      ['img', 'height'],
    ] as Array<[string, string]>);
    const [token, label] = pick(rng, [
      ['NaN', 'nan'],
      ['Infinity', 'infinity'],
      ['-Infinity', 'minus-infinity'],
      ['1e999', 'overflow-to-infinity'],
      ['1e308', 'huge'],
      ['-1e308', 'huge-negative'],
      ['2.5', 'fraction'],
      ['-1', 'negative'],
      ['"12"', 'string'],
      ['null', 'null'],
      ['[1]', 'array'],
      ['1e-320', 'denormal-fraction'],
      ['9007199254740993', 'beyond-safe-integer'],
    ] as Array<[string, string]>);
    const node = doc.nodes.find((n) => n.id === target[0])!;
    (node.params as Record<string, unknown>)[target[1]] = '__NUMBER__';
    const text = json(doc).replace('"__NUMBER__"', token);
    const invalidJson = token === 'NaN' || token.endsWith('Infinity');
    return {
      name: `${target[0]}.${target[1]}-${label}`,
      text,
      expect: 'invalid',
      where: invalidJson ? { nodeId: null } : { nodeId: target[0], field: target[1] },
    };
  },

  cycle: (rng) => {
    const doc = textWorkflow();
    const variant = pick(rng, ['self', 'two', 'long']);
    if (variant === 'self') {
      doc.edges.push(edge('loop', 'prompt', 'text', 'prompt', 'b'));
    } else if (variant === 'two') {
      doc.nodes.push({ id: 'other', type: 'TextTemplate', params: { template: '{a}' } });
      doc.edges.push(edge('e3', 'prompt', 'text', 'other', 'a'), edge('e4', 'other', 'text', 'prompt', 'b'));
    } else {
      const n = 3 + Math.floor(rng() * 40);
      for (let i = 0; i < n; i++)
        doc.nodes.push({ id: `t${i}`, type: 'TextTemplate', params: { template: '{a}' } });
      for (let i = 0; i < n; i++) doc.edges.push(edge(`c${i}`, `t${i}`, 'text', `t${(i + 1) % n}`, 'a'));
    }
    return { name: variant, text: json(doc), expect: 'invalid' };
  },

  'duplicate-id': (rng) => {
    const doc = textWorkflow();
    if (rng() < 0.5) {
      doc.nodes.push({ id: 'subject', type: 'Text', params: { text: 'dog' } });
      return { name: 'node', text: json(doc), expect: 'invalid', where: { nodeId: 'subject', field: 'id' } };
    }
    doc.edges[1].id = 'e1';
    return { name: 'edge', text: json(doc), expect: 'invalid', where: { nodeId: null, field: 'edges' } };
  },

  'dangling-edge': (rng) => {
    const doc = textWorkflow();
    const missing = pick(rng, ['ghost', 'Subject', 'show2']);
    if (rng() < 0.5) {
      doc.edges[0].from.node = missing;
      return { name: `from-${missing}`, text: json(doc), expect: 'invalid', where: { nodeId: 'prompt' } };
    }
    doc.edges[1].to.node = missing;
    return { name: `to-${missing}`, text: json(doc), expect: 'invalid', where: { nodeId: 'prompt' } };
  },

  'bad-connection': (rng) => {
    const doc = textWorkflow();
    const variant = pick(rng, ['type-mismatch', 'connected-twice', 'required-missing', 'image-into-text']);
    if (variant === 'type-mismatch') {
      doc.nodes.push({ id: 'img', type: 'LoadImage', params: { image: 'x.png' } });
      doc.edges.push(edge('e3', 'img', 'image', 'prompt', 'b'));
      return { name: variant, text: json(doc), expect: 'invalid', where: { nodeId: 'prompt', field: 'b' } };
    }
    if (variant === 'connected-twice') {
      doc.edges.push(edge('e3', 'subject', 'text', 'prompt', 'a'));
      return { name: variant, text: json(doc), expect: 'invalid', where: { nodeId: 'prompt', field: 'a' } };
    }
    if (variant === 'required-missing') {
      doc.edges.splice(1, 1);
      return { name: variant, text: json(doc), expect: 'invalid', where: { nodeId: 'show', field: 'value' } };
    }
    doc.nodes.push({ id: 'save', type: 'SaveImage', params: {} });
    doc.edges.push(edge('e3', 'prompt', 'text', 'save', 'image'));
    return { name: variant, text: json(doc), expect: 'invalid', where: { nodeId: 'save', field: 'image' } };
  },

  'no-output': (rng) => {
    const doc = textWorkflow();
    doc.nodes.splice(2, 1);
    doc.edges.splice(1, 1);
    if (rng() < 0.5) doc.nodes = [];
    return { name: doc.nodes.length === 0 ? 'empty' : 'no-sink', text: json(doc), expect: 'invalid' };
  },

  'huge-string': (rng) => {
    const doc = textWorkflow();
    const size = 1_000_001 + Math.floor(rng() * 1_000_000);
    const huge = pick(rng, ['a', 'é', '\u{1F34E}', '"']).repeat(size);
    const variant = pick(rng, ['text-param', 'description', 'meta', 'node-title']);
    if (variant === 'text-param') doc.nodes[0].params = { text: huge };
    else if (variant === 'description') doc.description = huge;
    else if (variant === 'meta') doc.meta = { note: huge };
    else doc.nodes[2].title = huge;
    const where =
      variant === 'text-param'
        ? { nodeId: 'subject', field: 'text' }
        : variant === 'node-title'
          ? { nodeId: 'show', field: 'title' }
          : { nodeId: null, field: variant };
    return { name: variant, text: json(doc), expect: 'invalid', where };
  },

  'deep-nesting': (rng) => {
    const doc = textWorkflow();
    const depth = 1_000 + Math.floor(rng() * 4_000);
    // built as text: JSON.stringify itself would recurse as deep
    const deep = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const deepArray = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const variant = pick(rng, ['meta', 'groups', 'param', 'param-array', 'position']);
    const base = json(doc);
    let text: string;
    let where: MalformedCase['where'];
    if (variant === 'meta') {
      text = base.replace(/\}$/, `,"meta":{"editor":${deep}}}`);
      where = { nodeId: null, field: 'meta' };
    } else if (variant === 'groups') {
      text = base.replace(/\}$/, `,"groups":[{"id":"g","title":"g","nodes":[],"extra":${deep}}]}`);
      where = { nodeId: null, field: 'groups' };
    } else if (variant === 'param') {
      text = base.replace('"params":{"text":"cat"}', `"params":{"text":${deep}}`);
      where = { nodeId: 'subject', field: 'text' };
    } else if (variant === 'param-array') {
      text = base.replace('"params":{"text":"cat"}', `"params":{"text":${deepArray}}`);
      where = { nodeId: 'subject', field: 'text' };
    } else {
      text = base.replace('"params":{"text":"cat"}', `"params":{"text":"cat"},"position":${deep}`);
      where = { nodeId: 'subject', field: 'position' };
    }
    return { name: `${variant}-${depth}`, text, expect: 'invalid', where };
  },

  'big-graph': (rng) => {
    const variant = pick(rng, ['chain-50k', 'unused-20k', 'edges-60k']);
    const doc = textWorkflow();
    if (variant === 'chain-50k') {
      for (let i = 0; i < 50_000; i++) doc.nodes.push({ id: `c${i}`, type: 'TextTemplate', params: {} });
      for (let i = 1; i < 50_000; i++) doc.edges.push(edge(`ce${i}`, `c${i - 1}`, 'text', `c${i}`, 'a'));
      doc.edges.push(edge('tail', 'c49999', 'text', 'prompt', 'b'));
    } else if (variant === 'unused-20k') {
      for (let i = 0; i < 20_000; i++)
        doc.nodes.push({ id: `u${i}`, type: 'Text', params: { text: `${i}` } });
    } else {
      for (let i = 0; i < 60_000; i++) doc.edges.push(edge(`x${i}`, 'subject', 'text', 'prompt', 'c'));
    }
    return { name: variant, text: json(doc), expect: 'invalid', where: { nodeId: null } };
  },

  'node-failure': (rng) => {
    const variant = pick(rng, [
      'missing-image',
      'no-image-chosen',
      'image-is-a-folder',
      'missing-model',
      'template-placeholder',
    ]);
    if (variant === 'missing-image') {
      const file = `missing-${Math.floor(rng() * 1e6)}.png`;
      return {
        name: variant,
        text: json(imageWorkflow(file)),
        expect: 'node-failure',
        where: { nodeId: 'image', field: 'image' },
      };
    }
    if (variant === 'no-image-chosen') {
      const blank = pick(rng, ['', ' ', '\t']);
      return {
        name: variant,
        text: json(imageWorkflow(blank)),
        expect: 'node-failure',
        where: { nodeId: 'image', field: 'image' },
      };
    }
    if (variant === 'image-is-a-folder') {
      return {
        name: variant,
        text: json(imageWorkflow('.')),
        expect: 'node-failure',
        where: { nodeId: 'image', field: 'image' },
      };
    }
    if (variant === 'missing-model') {
      const doc = textWorkflow();
      doc.nodes.push({
        id: 'model',
        type: 'LoadDiffusionModel',
        params: { model: `no-such-model-${Math.floor(rng() * 1e6)}` },
      });
      doc.nodes.push({ id: 'embed', type: 'EmbedPrompts', params: {} });
      doc.nodes.push({ id: 'show2', type: 'ShowValue', params: { filename: 'embedding.txt' } });
      doc.edges.push(
        edge('m1', 'model', 'model', 'embed', 'model'),
        edge('m2', 'prompt', 'text', 'embed', 'prompts'),
        edge('m3', 'embed', 'embedding', 'show2', 'value'),
      );
      return {
        name: variant,
        text: json(doc),
        expect: 'node-failure',
        where: { nodeId: 'model', field: 'model' },
      };
    }
    const doc = textWorkflow();
    doc.nodes[1].params = { template: `a photo of a {a} and a {${pick(rng, ['b', 'c', 'd'])}}` };
    return {
      name: variant,
      text: json(doc),
      expect: 'node-failure',
      where: { nodeId: 'prompt', field: 'template' },
    };
  },
};

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)];
}

/** A small, well-known 32-bit PRNG: the same seed gives the same cases on every platform. */
function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
