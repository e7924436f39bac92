import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ServerResponse } from 'node:http';

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'dashboard.html', type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};

/** The repository's `public/` folder, from src/ or from the compiled dist/src/ alike. */
function publicDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'public', 'dashboard.html'))) return join(dir, 'public');
    dir = dirname(dir);
  }
  throw new Error('public/dashboard.html not found');
}

/** The live dashboard: three static files, read once, served with a strict CSP (nothing from elsewhere). */
export function createDashboard() {
  const dir = publicDir();
  const files = new Map(
    Object.entries(ASSETS).map(([path, { file, type }]) => [path, { body: readFileSync(join(dir, file)), type }]),
  );
  return {
    has: (path: string) => files.has(path),
    serve(path: string, response: ServerResponse): void {
      const asset = files.get(path)!;
      response.writeHead(200, {
        'content-type': asset.type,
        'content-length': asset.body.length,
        'cache-control': 'no-cache',
        'content-security-policy':
          "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
      });
      response.end(asset.body);
    },
  };
}
