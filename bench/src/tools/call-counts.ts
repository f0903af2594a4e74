// What a server runs per unit of work (a socket connected, a message sent), from V8's precise
// coverage with call counts: how many JavaScript functions it enters and which module they are in.
// Used by connect-rounds.ts; the functions entered once per socket are what V8 compiles while a
// fresh process connects its first thousands of sockets (docs/benchmarks.md, thirteenth session).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Inspector } from '../inspector.ts';

interface FunctionCoverage {
  functionName: string;
  ranges: { startOffset: number; endOffset: number; count: number }[];
}
interface ScriptCoverage {
  url: string;
  functions: FunctionCoverage[];
}

/** Starts counting calls afresh (counts reset). Slows the process: measure CPU in other rounds. */
export async function startCounting(inspector: Inspector): Promise<void> {
  await inspector.call('Profiler.enable');
  await inspector.call('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  await inspector.call('Profiler.takePreciseCoverage');
}

/**
 * esbuild marks where each module's code starts in a bundle (`// node_modules/.pnpm/…/pkg/…`,
 * `// src/…`): the module a bundle offset belongs to, by package (or source folder).
 */
function modulesOf(file: string): (offset: number) => string {
  const source = readFileSync(file, 'utf8');
  const marks = [...source.matchAll(/^\/\/ (\S+)$/gm)].map((m) => ({
    at: m.index ?? 0,
    name: m[1]!.replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '').replace(/^(\.\.\/)+/, ''),
  }));
  return (offset) => {
    let name = 'bundle';
    for (const mark of marks) {
      if (mark.at > offset) break;
      name = mark.name;
    }
    // Our sources by file, a package by its name.
    if (name.startsWith('src/') || name.includes('/src/')) return name;
    const parts = name.split('/');
    return parts.slice(0, name.startsWith('@') ? 2 : 1).join('/');
  };
}

/**
 * Stops counting; per `units`, the calls and the functions entered at least once per
 * `minShare` of a unit, busiest modules first.
 */
export async function countedCalls(
  inspector: Inspector,
  units: number,
  limit = 12,
  minShare = 0.3,
): Promise<string> {
  const { result } = await inspector.call<{ result: ScriptCoverage[] }>('Profiler.takePreciseCoverage');
  await inspector.call('Profiler.stopPreciseCoverage');
  const byModule = new Map<string, { calls: number; functions: number }>();
  let calls = 0;
  let functions = 0;
  for (const script of result) {
    const bundle = script.url.startsWith('file://') ? modulesOf(fileURLToPath(script.url)) : undefined;
    for (const fn of script.functions) {
      const range = fn.ranges[0];
      if (!range || range.count < units * minShare) continue;
      const module = bundle ? bundle(range.startOffset) : script.url.replace(/^node:/, '');
      const entry = byModule.get(module) ?? { calls: 0, functions: 0 };
      entry.calls += range.count;
      entry.functions++;
      byModule.set(module, entry);
      calls += range.count;
      functions++;
    }
  }
  const top = [...byModule]
    .sort((a, b) => b[1].calls - a[1].calls)
    .slice(0, limit)
    .map(([name, entry]) => `${name} ${(entry.calls / units).toFixed(1)} (${entry.functions})`);
  return `${(calls / units).toFixed(0)} calls in ${functions} functions a unit; by module, calls (functions): ${top.join(', ')}`;
}
