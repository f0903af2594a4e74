import type { BuildOptions } from 'esbuild';

export function bundleOptions(where: { entry: string; outdir: string; sourcemap?: boolean }): BuildOptions;
