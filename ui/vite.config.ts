/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const uiRoot = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig(({ mode }) => ({
  root: uiRoot,
  base: './',
  // Keep Vite's and Vitest's caches in the repo-root node_modules, not in ui/.
  cacheDir: fileURLToPath(new URL('../node_modules/.vite', import.meta.url)),
  plugins: [svelte()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Keep every asset a separate file: the production CSP forbids inline styles and scripts.
    assetsInlineLimit: 0,
  },
  resolve: mode === 'test' || process.env.VITEST ? { conditions: ['browser'] } : undefined,
  test: {
    root: uiRoot,
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    // Pin the local time zone so time formatting tests really exercise UTC -> local.
    env: { TZ: 'Europe/Berlin' },
    setupFiles: ['src/test/setup.ts'],
  },
}));
