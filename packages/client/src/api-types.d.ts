/**
 * The Pneumatic API's procedures and error shape, read from the server's
 * router. This is the only module that looks at `@pneumatic/api`, and only at
 * its types: the build replaces its declarations with the same types spelled
 * out (scripts/build.mjs), so the published package carries the router's
 * inputs and outputs and nothing of the server behind them.
 */
import type { AppRouter } from '@pneumatic/api';
import type { DescribeProcedures } from './router.ts';
/** Every procedure of the API by path: `query`, `mutation` or `subscription`, with its input and output. */
export type PneumaticProcedures = DescribeProcedures<AppRouter['_def']['record']>;
/** The shape of the API's errors (`TRPCClientError#shape`), with `data.zodError` for invalid input. */
export type PneumaticErrorShape = AppRouter['_def']['_config']['$types']['errorShape'];
