// Builds the admin GUI into renderer/dist, served by server/api/gui.ts at /_hearth/admin/.
// No inline scripts or styles end up in the output, so the strict CSP holds.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/_hearth/admin/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    // `npx vite renderer` during development: the API comes from a running Hearth.
    proxy: { '/_hearth/api': 'http://127.0.0.1:8009' },
  },
});
