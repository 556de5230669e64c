import type { Reply } from './api';

/**
 * A failed call told as a member would want to hear it: what happened and what to do, never the
 * API's internal words ("internal", "database unavailable"). `action` names what failed, e.g.
 * "load your orders". `retried`: the app asks again by itself (a refresh), so it says so; a
 * member's own action (an upload, a payment, signing in) is never repeated for them, and "we keep
 * trying" there would read as a payment still on its way.
 */
export function failure(r: Reply<unknown>, action: string, how: { retried?: boolean } = {}): string {
  if (r.status === 0)
    return `We could not ${action}: this device cannot reach Gophermart. ${how.retried ? 'Check your connection; we keep trying.' : 'Check your connection, then try again.'}`;
  if (r.status === 503) return `We could not ${action}: Gophermart is briefly unavailable. Nothing is lost; try again in a moment.`;
  if (r.status === 502 || r.status === 504) return `We could not ${action}: a service behind Gophermart is not answering. Try again in a moment.`;
  if (r.status === 429) return `We could not ${action}: too many attempts. Wait a little and try again.`;
  if (r.status >= 500) return `We could not ${action}: something went wrong on our side. Try again in a moment.`;
  return `We could not ${action} (${r.error ?? `error ${r.status}`}).`;
}

/**
 * No answer from Gophermart itself (the connection dropped, or a gateway in front gave up): the
 * request may have been carried out all the same, so "nothing happened" cannot be promised.
 */
export const answerLost = (r: Reply<unknown>): boolean => r.status === 0 || r.status === 502 || r.status === 504;
