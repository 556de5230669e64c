import { useRef } from 'preact/hooks';

/** A random UUID v4. crypto.randomUUID exists only on https or localhost; getRandomValues everywhere. */
export function randomKey(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * One Idempotency-Key per form submission. `keyFor(request)` hands out the same key while the
 * same request is being retried (a timeout, a lost answer, a 5xx), so the server answers the
 * repeat as it did the first and nothing happens twice; `settle()` after a definitive answer,
 * so the next submission — even with the same inputs — is a new request with a new key.
 */
export function useIdempotencyKey(): { keyFor: (request: string) => string; settle: () => void } {
  const current = useRef<{ request: string; key: string } | null>(null);
  return {
    keyFor(request) {
      if (current.current?.request !== request) current.current = { request, key: randomKey() };
      return current.current.key;
    },
    settle() {
      current.current = null;
    },
  };
}
