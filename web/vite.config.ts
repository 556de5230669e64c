import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

// Built into dist/web, which the loyalty service serves at / (src/gophermart/web.ts).
export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [preact({ devToolsInProd: false, prefreshEnabled: false })],
  build: {
    outDir: here('../dist/web'),
    emptyOutDir: true,
    target: 'es2020',
    // one small bundle: nothing is worth a second round trip
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
    sourcemap: false,
  },
  server: {
    // `npx vite web` during development: the API and the ledger proxy come from a running gophermart
    proxy: { '/api': 'http://localhost:8080', '/ledger': 'http://localhost:8080' },
  },
});
