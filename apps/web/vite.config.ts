import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** Where `vite dev` sends API calls. Default: the server's default address. */
const SERVER = process.env.PNEUMATIC_SERVER_URL ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
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
});
