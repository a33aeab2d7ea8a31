// Vite builds two pages: the chat client (index.html) and the seed's plain
// App (examples/seed-app/index.html). Both read the servers' addresses from
// /config.js at run time (see serve.mjs), so one build works anywhere.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  build: {
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
        seed: resolve(import.meta.dirname, 'examples/seed-app/index.html'),
      },
    },
  },
  server: { port: 5173, strictPort: true },
  preview: { port: 5173, strictPort: true },
});
