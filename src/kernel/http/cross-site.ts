import type { FastifyRequest } from 'fastify';

/** Methods that only read: what a page of another site may make a browser send is harmless there. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A state-changing request a browser sent on behalf of a page of another origin: a form
 * (`enctype="text/plain"` makes a body every route here reads as JSON) or a no-cors `fetch`.
 * SameSite=Lax keeps the session cookie off such a POST from another *site*, but not from a
 * sibling subdomain (same site, other origin), and a login needs no cookie at all: a page
 * anywhere could sign a visitor in as the attacker, whose account then received the orders
 * the visitor uploaded. No route here allows cross-origin browser calls (there is no CORS), so
 * refusing them costs no legitimate client; clients that are not browsers send neither header.
 *
 * `Sec-Fetch-Site` decides where the browser sends it (every current one does); else `Origin`
 * against the request's host (`request.host`: behind a trusted proxy, its `X-Forwarded-Host`).
 */
export function crossOriginBrowserRequest(request: FastifyRequest): boolean {
  if (SAFE_METHODS.has(request.method)) return false;
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== request.host.toLowerCase();
  } catch {
    // `Origin: null` (a sandboxed frame, a redirect across sites) or junk: no origin of ours
    return true;
  }
}
