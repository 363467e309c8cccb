import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { UsageError } from '../config/errors.ts';

/** The dashboard's default port (the guard's metrics use 9464). */
export const DEFAULT_PORT = 9465;
const MAX_TOKEN = 1024;

export interface ListenAddress {
  host: string;
  port: number;
  loopback: boolean;
}

/** `127.0.0.1:9465`, `[::1]:9465`, `0.0.0.0:80`, `localhost:0` (0: any free port). */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  const host = m ? (m[1] ?? m[2]!) : '';
  if (!m || port > 65535 || (host !== 'localhost' && !isIP(host))) {
    throw new UsageError(`--listen '${text}' is not HOST:PORT with an IP address`, 'for example --listen 127.0.0.1:9465 (reach it from your laptop with ssh -L 9465:127.0.0.1:9465 HOST)');
  }
  return { host, port, loopback: isLoopback(host) };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:127\./i.test(host);
}

/** A bind beyond this machine shows every process and GPU to the network: only with a token. */
export function checkExposure(addr: ListenAddress, token: string | undefined): void {
  if (token !== undefined && (token.length < 8 || token.length > MAX_TOKEN)) {
    throw new UsageError(`the token must be 8 to ${MAX_TOKEN} characters long, got ${token.length}`, 'make one with: openssl rand -hex 16');
  }
  if (!addr.loopback && token === undefined) {
    throw new UsageError(`refusing to serve the dashboard on ${addr.host} without a token: anyone who can reach it would see every process and GPU`,
      'bind to 127.0.0.1 and use ssh -L 9465:127.0.0.1:9465 HOST, or give a token: CORRAL_UI_TOKEN=$(openssl rand -hex 16) corral ui --listen 0.0.0.0:9465');
  }
}

/** Same-length digests, so the comparison takes the same time whatever the guess. */
function sameSecret(given: string, token: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

export function cookieName(port: number): string {
  return `corral_ui_${port}`;
}

/**
 * Whether a request may see anything. With a token: `Authorization: Bearer T`, `?token=T` (the link
 * printed at start; it also sets an HttpOnly cookie so the page's own requests carry it), or that cookie.
 * Without one (loopback only): the Host header must name this machine's loopback, so a web page the
 * browser shows cannot reach the dashboard by pointing its own name at 127.0.0.1 (DNS rebinding).
 */
export function allowRequest(req: IncomingMessage, url: URL, token: string | undefined, port: number): { ok: boolean; setCookie?: string } {
  if (token === undefined) return { ok: isLoopback(hostOf(req.headers.host ?? '')) };
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  const query = url.searchParams.get('token') ?? undefined;
  const cookie = readCookie(req.headers.cookie ?? '', cookieName(port));
  for (const given of [bearer, query, cookie]) {
    if (given === undefined || given.length > MAX_TOKEN || !sameSecret(given, token)) continue;
    const setCookie = given === query ? `${cookieName(port)}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/` : undefined;
    return { ok: true, setCookie };
  }
  return { ok: false };
}

function hostOf(header: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(header) ?? /^([^:]+)(?::\d+)?$/.exec(header);
  return m?.[1] ?? '';
}

function readCookie(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) {
      try {
        return decodeURIComponent(v.join('='));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Every response: assets only from corral itself, never framed, types never sniffed, nothing cached. */
export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'");
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
}
