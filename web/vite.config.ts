import { defineConfig, type ProxyOptions } from 'vite';

// PORTAL_API_URL: the local API gateway (scripts/gateway.py), which serves the API at its
// production paths and routes it by template.yaml. WEB_HOST/WEB_PORT: this server.
const apiTarget = process.env.PORTAL_API_URL || 'http://127.0.0.1:3000';
const host = process.env.WEB_HOST || '127.0.0.1';
const port = Number(process.env.WEB_PORT || 5173);

// The page calls /api/<route>, as behind its CloudFront distribution; the gateway serves
// <route>: the prefix goes, the query string stays. The page stays same-origin, so the
// gateway needs no CORS headers. X-Forwarded-For carries the browser's address, as
// CloudFront's does.
const API_PREFIX = '/api';
const proxy: Record<string, ProxyOptions> = {
  [`${API_PREFIX}/`]: {
    target: apiTarget,
    changeOrigin: true,
    xfwd: true,
    rewrite: (path: string) => path.slice(API_PREFIX.length),
  },
};

export default defineConfig({
  server: { host, port, strictPort: true, proxy },
  // `vite preview` serves the built page the same way (the browser tests use it).
  preview: { host, port, strictPort: true, proxy },
  build: {
    outDir: 'dist',
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
});
