import { setFlagsFromString } from 'node:v8';

// See main.ts: the bench process's own timers run with the server's collector settings.
setFlagsFromString('--no-allocation-site-pretenuring');
