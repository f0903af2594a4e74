import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** What fails a scan: WCAG A/AA rules and best practices at these impacts. */
const BLOCKING_IMPACTS = new Set(['critical', 'serious']);

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: string; html: string; summary: string }[];
}

/**
 * Runs axe-core over the page once its CSS transitions have ended (a menu
 * still fading in has colours half blended with the page: contrast is judged
 * on what stays on screen) and returns its critical and serious violations,
 * written out for a failure message (empty when clean).
 *
 * The source goes in through page.evaluate (the DevTools protocol), which the
 * server's content security policy does not see: a <script> tag would be refused.
 */
export async function accessibilityViolations(page: Page, what: string): Promise<string> {
  await page.waitForFunction(() =>
    document.getAnimations().every((a) => !(a instanceof CSSTransition) || a.playState !== 'running'),
  );
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations: Violation[] = await page.evaluate(async () => {
    // The script injected above, typed by axe-core's own declarations.
    const { axe } = window as unknown as { axe: typeof import('axe-core') };
    const result = await axe.run(document, {
      resultTypes: ['violations'],
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'],
      },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? null,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({
        target: n.target.map(String).join(' '),
        html: n.html,
        summary: n.failureSummary ?? '',
      })),
    }));
  });
  const blocking = violations.filter((v) => v.impact !== null && BLOCKING_IMPACTS.has(v.impact));
  if (blocking.length === 0) return '';
  const lines = [`${what}: ${blocking.length} critical/serious accessibility violation(s)`];
  for (const v of blocking) {
    lines.push(`  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})`);
    for (const node of v.nodes.slice(0, 5)) {
      lines.push(`    at ${node.target}`, `      ${node.html.slice(0, 160)}`);
      for (const line of node.summary.split('\n')) lines.push(`      ${line}`);
    }
    if (v.nodes.length > 5) lines.push(`    … and ${v.nodes.length - 5} more`);
  }
  return lines.join('\n');
}
