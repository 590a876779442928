// Builds the console into dist/console, which the broker serves at /. In development
// `vite --config console/vite.config.ts` proxies /api to a running broker (VIGIL_API).
import { fileURLToPath } from 'node:url';
import { defineConfig, loadEnv } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig(({ mode }) => {
  // An empty prefix list makes loadEnv read VIGIL_API from the shell as well as .env files.
  const env = loadEnv(mode, root, '');
  const api = env.VIGIL_API ?? 'http://127.0.0.1:8080';
  return {
    root,
    base: '/',
    build: {
      outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
      emptyOutDir: true,
      target: 'es2022',
    },
    server: {
      // The live stream is a long-lived response; the proxy passes it through unbuffered.
      proxy: { '/api': { target: api, changeOrigin: false } },
    },
  };
});
