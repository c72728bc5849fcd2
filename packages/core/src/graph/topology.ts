/** A directed edge between two node ids (producer → consumer). */
export interface Dependency {
  from: string;
  to: string;
}

/**
 * Kahn's algorithm; among the nodes ready at each step the one earliest in `nodeIds` goes first, so the order
 * is deterministic. The ready nodes wait in a binary heap keyed by that position, so ordering n nodes and e
 * edges takes O((n + e) log n), not O(n²) (20 000 unconnected nodes are all ready at once). Nodes on a cycle
 * (or downstream of one) are left out; compare lengths to detect that.
 */
export function topologicalOrder(nodeIds: readonly string[], dependencies: readonly Dependency[]): string[] {
  const rank = new Map<string, number>();
  nodeIds.forEach((id, i) => {
    if (!rank.has(id)) rank.set(id, i);
  });
  const indegree = new Int32Array(nodeIds.length);
  const consumers: number[][] = nodeIds.map(() => []);
  for (const { from, to } of dependencies) {
    const f = rank.get(from);
    const t = rank.get(to);
    if (f === undefined || t === undefined) continue;
    consumers[f].push(t);
    indegree[t]++;
  }
  const ready = new MinHeap();
  for (const i of rank.values()) if (indegree[i] === 0) ready.push(i);
  const order: string[] = [];
  while (ready.size > 0) {
    const i = ready.pop();
    order.push(nodeIds[i]);
    for (const next of consumers[i]) if (--indegree[next] === 0) ready.push(next);
  }
  return order;
}

/** A binary min-heap of non-negative integers. */
class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const a = this.items;
    a.push(value);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent] <= a[i]) break;
      [a[parent], a[i]] = [a[i], a[parent]];
      i = parent;
    }
  }

  pop(): number {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

/**
 * The strongly connected components that form cycles (more than one node, or a node feeding itself), each
 * listed in `nodeIds` order (Tarjan's algorithm, with an explicit stack so a long chain cannot overflow the
 * call stack).
 */
export function findCycles(nodeIds: readonly string[], dependencies: readonly Dependency[]): string[][] {
  const rank = new Map(nodeIds.map((id, i) => [id, i]));
  const successors = new Map<string, string[]>(nodeIds.map((id) => [id, []]));
  const selfLoops = new Set<string>();
  for (const { from, to } of dependencies) {
    if (!rank.has(from) || !rank.has(to)) continue;
    successors.get(from)!.push(to);
    if (from === to) selfLoops.add(from);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let counter = 0;

  const enter = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
  };
  for (const root of nodeIds) {
    if (index.has(root)) continue;
    enter(root);
    // Each frame is a node and how many of its successors have been looked at so far.
    const frames: { v: string; next: number }[] = [{ v: root, next: 0 }];
    while (frames.length > 0) {
      const frame = frames[frames.length - 1];
      const { v } = frame;
      const next = successors.get(v)!;
      if (frame.next < next.length) {
        const w = next[frame.next++];
        if (!index.has(w)) {
          enter(w);
          frames.push({ v: w, next: 0 });
        } else if (onStack.has(w)) {
          low.set(v, Math.min(low.get(v)!, index.get(w)!));
        }
        continue;
      }
      frames.pop();
      const parent = frames.at(-1);
      if (parent) low.set(parent.v, Math.min(low.get(parent.v)!, low.get(v)!));
      if (low.get(v) !== index.get(v)) continue;
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || selfLoops.has(v)) {
        cycles.push(component.sort((a, b) => rank.get(a)! - rank.get(b)!));
      }
    }
  }
  return cycles.sort((a, b) => rank.get(a[0])! - rank.get(b[0])!);
}

/**
 * The targets and every node they depend on, following dependencies backwards. A node for which `stopAt`
 * returns true is included but its producers are not followed (a cached node needs nothing upstream). `stopAt`
 * is called once per node reached.
 */
export function upstreamOf(
  targets: readonly string[],
  dependencies: readonly Dependency[],
  stopAt?: (nodeId: string) => boolean,
): Set<string> {
  const producers = new Map<string, string[]>();
  for (const { from, to } of dependencies) {
    const list = producers.get(to);
    if (list) list.push(from);
    else producers.set(to, [from]);
  }
  const reached = new Set<string>();
  const pending = [...targets];
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (reached.has(id)) continue;
    reached.add(id);
    if (stopAt?.(id) === true) continue;
    pending.push(...(producers.get(id) ?? []));
  }
  return reached;
}
