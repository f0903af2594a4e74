import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

/** Where `vite dev` sends API calls. Default: the server's default address. */
const SERVER = process.env.PNEUMATIC_SERVER_URL ?? 'http://127.0.0.1:8000';

export default defineConfig(({ command }) => ({
  plugins: [react()],
  // `vite dev` compiles the SDK from its sources, so edits there reload at once; the build uses its dist/.
  resolve: command === 'serve' ? { conditions: ['@pneumatic/source', ...defaultClientConditions] } : {},
  build: {
    outDir: 'dist',
    target: 'es2022',
    sourcemap: true,
  },
  server: {
    proxy: {
      '/trpc': { target: SERVER, ws: true },
      '/auth': SERVER,
      '/users': SERVER,
      '/conversations': SERVER,
      '/messages': SERVER,
      '/health': SERVER,
    },
  },
}));
