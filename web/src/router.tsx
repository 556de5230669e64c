import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { appPage, type AppPage } from '../../src/gophermart/web-pages.js';

/**
 * History-API routing for a handful of pages. The server knows the same page list
 * (src/gophermart/web-pages.ts): it answers them with index.html, and anything else with a 404.
 * `replace` is for redirects, so Back does not bounce the member into them again.
 */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (location.pathname === to) return;
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const on = (): void => setPath(location.pathname);
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return path;
}

/** The page a path shows, or undefined for "page not found". */
export const pageOf = (path: string): AppPage | undefined => appPage(path);

export function Link(props: { href: string; class?: string; current?: boolean; children: ComponentChildren }) {
  return (
    <a
      href={props.href}
      class={props.class}
      aria-current={props.current ? 'page' : undefined}
      onClick={(e) => {
        // let the browser handle new-tab and other modified clicks
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}
