import type { BuildOptions } from 'esbuild';

export const EXTERNAL_PACKAGES: string[];

export function bundleOptions(where: { entry: string; outdir: string; sourcemap?: boolean }): BuildOptions;
