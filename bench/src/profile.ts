import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CpuProfile } from './inspector.ts';
import { REPO_DIR } from './util.ts';

export interface ProfileEntry {
  name: string;
  /** Where it is: a repository path (source-mapped for the bundled server) or a package. */
  location: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  durationMs: number;
  /** Share of the profile the process was busy (not idle). */
  busyPercent: number;
  /** Self time by where the code lives; native and builtin calls count for the JS that called them. */
  byArea: ProfileEntry[];
  /** Functions by self time, builtins (JSON.stringify, writev, better-sqlite3 calls) included. */
  topSelf: ProfileEntry[];
  /** Pneumatic functions by inclusive time: everything they and their callees did. */
  topInclusive: ProfileEntry[];
  /**
   * The longest stretches without an idle sample: event-loop blocks that every
   * socket waits out (a synchronous database call stuck in fsync shows here, as
   * the sampler counts wall time), each with the function most of it was spent in.
   */
  longestTasks: Array<{ ms: number; mostlyIn: string }>;
}

interface Frame {
  name: string;
  location: string;
  area: string;
  /** True when the frame has JS source (not a builtin or native function). */
  hasSource: boolean;
  pneumatic: boolean;
}

/** Source maps by script URL: those given (read when the process started), else the file's `.map` now. */
class SourceMaps {
  readonly #maps = new Map<string, SourceMap | null>();
  readonly #given: Map<string, SourceMapPayload>;

  constructor(given: Map<string, SourceMapPayload>) {
    this.#given = given;
  }

  get(url: string): SourceMap | null {
    let map = this.#maps.get(url);
    if (map !== undefined) return map;
    map = null;
    try {
      const given = this.#given.get(url);
      if (given) map = new SourceMap(given);
      else {
        const file = `${fileURLToPath(url)}.map`;
        if (existsSync(file)) {
          const payload = JSON.parse(readFileSync(file, 'utf8')) as SourceMapPayload;
          payload.sources = payload.sources.map((s) => resolve(dirname(file), s));
          map = new SourceMap(payload);
        }
      }
    } catch {}
    this.#maps.set(url, map);
    return map;
  }
}

function packageOf(path: string): string {
  const rest = path.slice(path.lastIndexOf('/node_modules/') + '/node_modules/'.length);
  const parts = rest.split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

function describe(callFrame: CpuProfile['nodes'][number]['callFrame'], maps: SourceMaps): Frame {
  const { functionName, url, lineNumber, columnNumber } = callFrame;
  const name = functionName || '(anonymous)';
  if (functionName === '(garbage collector)') return frame(name, '', 'GC', false);
  if (functionName === '(idle)') return frame(name, '', 'idle', false);
  if (functionName === '(program)' || functionName === '(root)') return frame(name, '', 'V8/native', false);
  if (!url) return frame(name, '', 'builtin', false);
  if (url.startsWith('node:')) return frame(name, url, 'node core', true);
  let path = url.startsWith('file://') ? fileURLToPath(url) : url;
  let line = lineNumber + 1;
  const map = url.startsWith('file://') ? maps.get(url) : null;
  if (map) {
    const entry = map.findEntry(lineNumber, columnNumber) as {
      originalSource?: string;
      originalLine?: number;
    };
    if (entry.originalSource) {
      path = entry.originalSource;
      line = (entry.originalLine ?? 0) + 1;
    }
  }
  if (path.includes('/node_modules/')) return frame(name, packageOf(path), packageOf(path), true);
  const local = relative(REPO_DIR, path);
  const area = local.startsWith('packages/')
    ? `pneumatic ${local.split('/')[1]}`
    : local.startsWith('apps/server')
      ? 'pneumatic server'
      : local;
  return {
    name,
    location: `${local}:${line}`,
    area,
    hasSource: true,
    pneumatic: area.startsWith('pneumatic'),
  };
}

function frame(name: string, location: string, area: string, hasSource: boolean): Frame {
  return { name, location, area, hasSource, pneumatic: false };
}

function top(map: Map<string, { entry: Omit<ProfileEntry, 'percent'> }>, total: number, n: number) {
  return [...map.values()]
    .map(({ entry }) => ({ ...entry, percent: total > 0 ? (100 * entry.ms) / total : 0 }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, n);
}

/** Where a CPU profile's time went: by area, by function (self), and by Pneumatic function (inclusive). */
export function summarizeProfile(
  profile: CpuProfile,
  sourceMaps: Map<string, SourceMapPayload> = new Map(),
  limit = 15,
): ProfileSummary {
  const maps = new SourceMaps(sourceMaps);
  const parent = new Map<number, number>();
  const frames = new Map<number, Frame>();
  for (const node of profile.nodes) {
    frames.set(node.id, describe(node.callFrame, maps));
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const byArea = new Map<string, { entry: Omit<ProfileEntry, 'percent'> }>();
  const self = new Map<string, { entry: Omit<ProfileEntry, 'percent'> }>();
  const inclusive = new Map<string, { entry: Omit<ProfileEntry, 'percent'> }>();
  const add = (map: typeof self, key: string, name: string, location: string, ms: number) => {
    const found = map.get(key);
    if (found) found.entry.ms += ms;
    else map.set(key, { entry: { name, location, ms } });
  };
  let total = 0;
  let idle = 0;
  const tasks: Array<{ ms: number; mostlyIn: string }> = [];
  let task = { ms: 0, by: new Map<string, number>() };
  const endTask = () => {
    if (task.ms > 0) {
      const [mostlyIn] = [...task.by.entries()].sort((a, b) => b[1] - a[1])[0] ?? [''];
      tasks.push({ ms: task.ms, mostlyIn });
    }
    task = { ms: 0, by: new Map() };
  };
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    const id = profile.samples[i]!;
    const leaf = frames.get(id)!;
    total += ms;
    if (leaf.area === 'idle') {
      idle += ms;
      endTask();
      continue;
    }
    const where = `${leaf.name}${leaf.location ? ` (${leaf.location})` : ''}`;
    task.ms += ms;
    task.by.set(where, (task.by.get(where) ?? 0) + ms);
    add(self, `${leaf.name}@${leaf.location}`, leaf.name, leaf.location || leaf.area, ms);
    // Builtins and native calls count for the nearest caller with source.
    let area = leaf.area;
    const seen = new Set<string>();
    for (let node: number | undefined = id; node !== undefined; node = parent.get(node)) {
      const f = frames.get(node)!;
      if ((area === 'builtin' || area === 'V8/native') && f.hasSource && node !== id)
        area = `${f.area} (native/builtin)`;
      if (f.pneumatic) {
        const key = `${f.name}@${f.location}`;
        if (!seen.has(key)) {
          seen.add(key);
          add(inclusive, key, f.name, f.location, ms);
        }
      }
    }
    add(byArea, area, area, '', ms);
  }
  endTask();
  const busy = total - idle;
  return {
    durationMs: total,
    busyPercent: total > 0 ? (100 * busy) / total : 0,
    byArea: top(byArea, busy, limit),
    topSelf: top(self, busy, limit),
    topInclusive: top(inclusive, busy, limit),
    longestTasks: tasks.sort((a, b) => b.ms - a.ms).slice(0, 5),
  };
}
