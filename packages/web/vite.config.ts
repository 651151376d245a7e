import { defineConfig } from 'vite';

// esbuild's automatic JSX runtime instead of @vitejs/plugin-react (no Fast Refresh needed for a build).
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  esbuild: { jsx: 'automatic' },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022' },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
