import type { SpecCatalog } from './catalog.js';
import { canonicalJson } from './canonical-json.js';
import { ownValue } from './own.js';
import { isFingerprintedKind } from './params.js';
import { sha256Text } from './sha256.js';
import { topologicalOrder } from './topology.js';
import type { Workflow } from '../workflow/schema.js';
import type { ValidWorkflow } from './validate.js';

/** Fingerprints of the files and models nodes read: node id → param name → fingerprint. */
export type ParamFingerprints = Readonly<Record<string, Readonly<Record<string, string>>>>;

/**
 * The cache key of every node of a validated workflow: a hash of the node's type and version, its canonical
 * params, the fingerprints of the files/models it reads, and — for each connected input — the key of the
 * producing node and which output feeds it. A change anywhere upstream therefore changes the key.
 *
 * A node defined with `readsWorkflow` also keys on the whole document (UI fields included: it may embed
 * them): `document` when given (the full canvas of a run limited to targets), else `workflow`. Pure, so the editor can call it to mark stale nodes. A file/model param without a fingerprint is
 * keyed on its path only.
 */
export function computeCacheKeys(
  workflow: ValidWorkflow,
  catalog: SpecCatalog,
  fingerprints: ParamFingerprints = {},
  document: Workflow = workflow,
): Map<string, string> {
  const nodes = new Map(workflow.nodes.map((node) => [node.id, node]));
  const incoming = new Map<string, Record<string, { node: string; output: string }>>();
  for (const edge of workflow.edges) {
    const inputs = incoming.get(edge.to.node) ?? Object.create(null);
    inputs[edge.to.input] = edge.from;
    incoming.set(edge.to.node, inputs);
  }
  const order = topologicalOrder(
    workflow.nodes.map((n) => n.id),
    workflow.edges.map((e) => ({ from: e.from.node, to: e.to.node })),
  );
  let workflowDigest: string | undefined;
  const keys = new Map<string, string>();
  for (const id of order) {
    const node = nodes.get(id)!;
    const def = catalog.get(node.type);
    if (!def)
      throw new Error(`computeCacheKeys: unknown node type '${node.type}' (validate the workflow first)`);
    const inputs: Record<string, { key: string; output: string }> = {};
    for (const [input, from] of Object.entries(incoming.get(id) ?? {})) {
      inputs[input] = { key: keys.get(from.node)!, output: from.output };
    }
    const files: Record<string, string> = {};
    for (const [name, spec] of Object.entries(def.params)) {
      const own = ownValue(fingerprints, id);
      const fingerprint = own ? ownValue(own, name) : undefined;
      if (isFingerprintedKind(spec.kind) && fingerprint !== undefined) files[name] = fingerprint;
    }
    const material: Record<string, unknown> = {
      type: def.type,
      version: def.version,
      params: node.params,
      inputs,
      files,
    };
    if (def.readsWorkflow) material.workflow = workflowDigest ??= hashOf(canonicalJson(document));
    keys.set(id, hashOf(canonicalJson(material)));
  }
  return keys;
}

/** The texts hashed lately and their hashes: a workflow run again (or edited a little) hashes the same texts. */
const recentHashes = new Map<string, string>();
let recentChars = 0;
/** Characters the memo keeps at most (about 2 MiB); it starts over when full. */
const RECENT_CHARS = 1 << 20;

/** sha256Text, remembered for recent texts. */
function hashOf(text: string): string {
  let hash = recentHashes.get(text);
  if (hash === undefined) {
    hash = sha256Text(text);
    if (recentChars + text.length > RECENT_CHARS) {
      recentHashes.clear();
      recentChars = 0;
    }
    if (text.length <= RECENT_CHARS) {
      recentHashes.set(text, hash);
      recentChars += text.length;
    }
  }
  return hash;
}
