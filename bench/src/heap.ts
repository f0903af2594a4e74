/** Summaries of V8 heap snapshots: bytes and counts by constructor, and the difference of two. */

interface HeapSnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export type HeapSummary = Map<string, { count: number; bytes: number }>;

export interface HeapGrowth {
  /** `type:name`, for example `object:WebSocket` or `closure:respond`. */
  name: string;
  countPerSocket: number;
  bytesPerSocket: number;
}

/** Self sizes by node type and name (the constructor for objects, the function for closures). */
export function summarizeHeap(json: string): HeapSummary {
  const snapshot = JSON.parse(json) as HeapSnapshotJson;
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const summary: HeapSummary = new Map();
  const { nodes, strings } = snapshot;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]!] ?? '?';
    let name = strings[nodes[i + nameAt]!] ?? '?';
    // Strings and numbers are named by their content: group them by type alone.
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number')
      name = '';
    else if (name.length > 60) name = `${name.slice(0, 57)}...`;
    const key = `${type}:${name}`;
    const entry = summary.get(key);
    if (entry) {
      entry.count++;
      entry.bytes += nodes[i + sizeAt]!;
    } else summary.set(key, { count: 1, bytes: nodes[i + sizeAt]! });
  }
  return summary;
}

/** What grew between two summaries, per socket, largest first. */
export function heapGrowth(
  before: HeapSummary,
  after: HeapSummary,
  sockets: number,
  limit = 25,
): HeapGrowth[] {
  const growth: HeapGrowth[] = [];
  for (const [name, a] of after) {
    const b = before.get(name) ?? { count: 0, bytes: 0 };
    const bytes = a.bytes - b.bytes;
    if (bytes <= 0) continue;
    growth.push({ name, countPerSocket: (a.count - b.count) / sockets, bytesPerSocket: bytes / sockets });
  }
  return growth.sort((x, y) => y.bytesPerSocket - x.bytesPerSocket).slice(0, limit);
}
