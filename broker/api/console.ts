/**
 * The built console (dist/console) at /. It is a single-page app: a path that is not a
 * file and not under /api (say /tickets/17 after a reload) answers index.html and the
 * app's router takes over. The files are public: the login page must load first.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { notFound } from './errors.js';

/**
 * Registers the files when `dir` holds a built console; returns whether it does. Call on
 * the root instance, before the not-found handler that uses reply.sendFile.
 */
export async function registerConsole(app: FastifyInstance, dir: string | null): Promise<boolean> {
  if (dir === null) return false;
  const root = resolve(dir);
  if (!existsSync(join(root, 'index.html'))) {
    app.log.warn({ dir: root }, 'no console here: run `npm run build:console`');
    return false;
  }
  // wildcard: false registers one route per file found now (the build does not change
  // while the broker runs), so any other path falls through to the not-found handler.
  await app.register(fastifyStatic, { root, prefix: '/', wildcard: false });
  return true;
}

const API_PREFIX = /^\/api(\/|$)/;
/** The last path segment has an extension: a missing asset, not a console route. */
const LOOKS_LIKE_FILE = /\/[^/]*\.[^/]*$/;

/** The not-found handler: JSON 404 under /api and for missing files, else index.html. */
export function notFoundHandler(consoleReady: boolean) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    const page = request.method === 'GET' || request.method === 'HEAD';
    if (consoleReady && page && !API_PREFIX.test(path) && !LOOKS_LIKE_FILE.test(path)) {
      // index.html names the hashed assets of the current build: never cache it.
      return reply.sendFile('index.html', { maxAge: 0, immutable: false });
    }
    if (!consoleReady && page && !API_PREFIX.test(path)) {
      throw notFound(
        request.method,
        path,
        'the console is not built; run `npm run build:console` and start the broker again.',
      );
    }
    throw notFound(request.method, path);
  };
}
