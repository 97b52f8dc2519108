import { defineConfig, type ProxyOptions } from 'vite';
import { API_PREFIX, toLambdaUrlPath } from './api-proxy.ts';

// PORTAL_API_URL: where `cargo lambda watch` listens. WEB_HOST/WEB_PORT: this server.
const apiTarget = process.env.PORTAL_API_URL || 'http://127.0.0.1:9000';
const host = process.env.WEB_HOST || '127.0.0.1';
const port = Number(process.env.WEB_PORT || 5173);

const proxy: Record<string, ProxyOptions> = {
  [`${API_PREFIX}/`]: {
    target: apiTarget,
    changeOrigin: true,
    rewrite: toLambdaUrlPath,
  },
};

export default defineConfig({
  server: { host, port, strictPort: true, proxy },
  // `vite preview` serves the built page the same way (the browser tests may use it).
  preview: { host, port, strictPort: true, proxy },
  build: {
    outDir: 'dist',
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
});
