import { defineConfig } from 'vite';

// Preact's JSX through Vite's own transformer (Oxc), automatic runtime, no framework plugin.
// The API serves dist/ at `/`: hashed files under /assets/ (long cache), index.html uncached.
export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    // No inline scripts or module-preload polyfill: the page's CSP allows only 'self' scripts.
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
  },
  server: { proxy: { '/v1': 'http://127.0.0.1:8080' } },
});
