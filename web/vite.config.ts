import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, constants } from 'node:zlib';
import { build, defineConfig, type Plugin } from 'vite';

/** Writes `<file>.gz` (zlib level 9) beside each script, style sheet and SVG under dist/assets,
 *  which the API sends to browsers that accept gzip (tower-http's precompressed `ServeDir`):
 *  the startup script goes over the wire at ~77 kB instead of ~213 kB, at no CPU per request. */
function precompress(): Plugin {
  return {
    name: 'tangible-precompress',
    apply: 'build',
    closeBundle() {
      const dir = join('dist', 'assets');
      for (const name of readdirSync(dir)) {
        if (!/\.(js|css|svg)$/.test(name)) continue;
        const file = join(dir, name);
        writeFileSync(`${file}.gz`, gzipSync(readFileSync(file), { level: constants.Z_BEST_COMPRESSION }));
      }
    },
  };
}

/** Builds the service worker (src/sw/sw.ts) after the app, as its own bundle `dist/sw.js`: a
 *  stable name at the root (scope `/`), no hash, nothing shared with the app's chunks. It is
 *  given the app shell to cache (index.html's assets, every built file under dist/) and a
 *  version (a hash of those files), so each deploy installs a new worker and drops the old cache. */
function serviceWorker(): Plugin {
  return {
    name: 'tangible-service-worker',
    apply: 'build',
    async closeBundle() {
      const files = [
        ...readdirSync('dist').filter((f) => statSync(join('dist', f)).isFile() && f !== 'index.html' && f !== 'sw.js'),
        ...readdirSync(join('dist', 'assets')).filter((f) => !f.endsWith('.gz')).map((f) => `assets/${f}`),
      ].sort();
      const hash = createHash('sha256');
      for (const f of ['index.html', ...files]) hash.update(f).update(readFileSync(join('dist', f)));
      await build({
        configFile: false,
        logLevel: 'warn',
        define: {
          __SHELL_FILES__: JSON.stringify(files.map((f) => `/${f}`)),
          __SHELL_VERSION__: JSON.stringify(hash.digest('hex').slice(0, 16)),
        },
        build: {
          outDir: 'dist',
          emptyOutDir: false,
          copyPublicDir: false,
          target: 'es2022',
          sourcemap: false,
          lib: { entry: 'src/sw/sw.ts', formats: ['es'], fileName: () => 'sw.js' },
        },
      });
    },
  };
}

// Preact's JSX through Vite's own transformer (Oxc), automatic runtime, no framework plugin.
// The API serves dist/ at `/`: hashed files under /assets/ (long cache), index.html uncached.
export default defineConfig({
  plugins: [precompress(), serviceWorker()],
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
