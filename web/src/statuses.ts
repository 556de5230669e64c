import type { Order, TxStatus } from './api';

export type StatusTone = 'ok' | 'bad' | 'wait' | 'new' | 'neutral';

export interface StatusWords {
  /** A word or two for the badge. */
  label: string;
  tone: StatusTone;
  /** What it means for the member and what, if anything, to do next; empty when the row says it all. */
  explain: string;
}

/**
 * An order's status as a member reads it. A PROCESSED order without points gets its own words and
 * colour, so it is never mistaken for one still waiting.
 */
export function orderStatus(o: Pick<Order, 'status' | 'accrual'>): StatusWords {
  switch (o.status) {
    case 'NEW':
      return {
        label: 'Waiting',
        tone: 'new',
        explain:
          'The store has not sent this purchase for calculation yet. Nothing to do: this page updates by itself. Still waiting after a day? Check the number against your receipt.',
      };
    case 'PROCESSING':
      return {
        label: 'Calculating',
        tone: 'wait',
        explain: 'The points for this purchase are being calculated. Nothing to do: they are added to your balance automatically.',
      };
    case 'INVALID':
      return {
        label: 'Not eligible',
        tone: 'bad',
        explain: 'The store refused this order, so it earns no points. Check that the number matches your receipt; if it does, ask the store why.',
      };
    case 'PROCESSED':
      return o.accrual !== undefined && o.accrual > 0
        ? // the points column already says how many: no line that repeats it
          { label: 'Credited', tone: 'ok', explain: '' }
        : { label: 'No points', tone: 'neutral', explain: 'Calculated: nothing in this purchase earns points.' };
  }
}

/** A wallet transaction's status; `outgoing` tells the sender's side from the receiver's. */
export function txStatus(status: TxStatus, outgoing: boolean): Pick<StatusWords, 'label' | 'tone'> {
  switch (status) {
    case 'PENDING':
      return { label: 'Waiting', tone: 'new' };
    case 'PROCESSING':
      return { label: 'In progress', tone: 'wait' };
    case 'SUCCESSFUL':
      return { label: outgoing ? 'Sent' : 'Received', tone: 'ok' };
    case 'INVALID':
      return { label: 'Refused', tone: 'bad' };
    case 'FAILED':
      return { label: 'Failed', tone: 'bad' };
  }
}
