export interface ListenAddress {
  host: string;
  port: number;
}

function parsePort(text: string, original: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid port in address "${original}"`);
  }
  return port;
}

/**
 * Accepts `host:port`, `:port` (all interfaces), `[v6]:port`, a bare port, or a full URL.
 */
export function parseListenAddress(value: string): ListenAddress {
  const text = value.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    const url = new URL(text);
    const defaultPort = url.protocol === 'https:' ? 443 : 80;
    return { host: url.hostname.replace(/^\[|\]$/g, '') || '0.0.0.0', port: url.port ? Number(url.port) : defaultPort };
  }
  if (/^\d+$/.test(text)) return { host: '0.0.0.0', port: parsePort(text, value) };
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (v6) return { host: v6[1] ?? '::', port: parsePort(v6[2] ?? '', value) };
  const idx = text.lastIndexOf(':');
  if (idx < 0) throw new Error(`address "${value}" has no port`);
  const host = text.slice(0, idx);
  return { host: host === '' ? '0.0.0.0' : host, port: parsePort(text.slice(idx + 1), value) };
}

/** Normalises a peer service address (`host:port`, `:port` or URL) to a base URL without a trailing slash. */
export function parseServiceUrl(value: string): string {
  const text = value.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`address "${value}" is not an http:// or https:// URL`);
    return url.toString().replace(/\/+$/, '');
  }
  const { host, port } = parseListenAddress(text);
  const printableHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${printableHost}:${port}`;
  // a host no URL can carry (`a b:80`, or `a:1;b:2` read as host `a:1;b` and port 2) is refused
  // here, with the settings, not by the first request made to it (or as an uncaught TypeError)
  if (!URL.canParse(url)) throw new Error(`address "${value}" has no valid host name`);
  return url;
}
