import type { Reply } from './api';

/**
 * A failed call told as a member would want to hear it: what happened and what to do, never the
 * API's internal words ("internal", "database unavailable"). `action` names what failed, e.g.
 * "load your orders".
 */
export function failure(r: Reply<unknown>, action: string): string {
  if (r.status === 0) return `We could not ${action}: this device cannot reach Gophermart. Check your connection; we keep trying.`;
  if (r.status === 503) return `We could not ${action}: Gophermart is briefly unavailable. Nothing is lost; try again in a moment.`;
  if (r.status === 502 || r.status === 504) return `We could not ${action}: a service behind Gophermart is not answering. Try again in a moment.`;
  if (r.status === 429) return `We could not ${action}: too many attempts. Wait a little and try again.`;
  if (r.status >= 500) return `We could not ${action}: something went wrong on our side. Try again in a moment.`;
  return `We could not ${action} (${r.error ?? `error ${r.status}`}).`;
}
