/**
 * The member web app's own pages. The server answers these with index.html and status 200; any
 * other page-like path gets index.html with status 404, where the app shows its "page not found"
 * page. Imported by both the server (src/gophermart/web.ts) and the app (web/src/router.tsx), so the
 * two can never disagree about which pages exist.
 */
export const APP_PAGES = ['/', '/signin', '/orders', '/balance', '/withdraw', '/wallets'] as const;
export type AppPage = (typeof APP_PAGES)[number];

/** `/orders/` and `/orders` are the same page. */
export function appPage(path: string): AppPage | undefined {
  const bare = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return (APP_PAGES as readonly string[]).includes(bare) ? (bare as AppPage) : undefined;
}
