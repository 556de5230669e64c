import { useEffect, useRef, useState } from 'preact/hooks';
import { loyalty } from '../api';
import { Card, Field, focusKeeper, Message, type Notice } from '../components/ui';
import type { MemberData } from '../data';
import { checkOrderNumber, hundredths, money, parseAmount, when } from '../format';
import { answerLost, failure } from '../problems';
import { Link } from '../router';

/** The payment waiting for the member's yes: shown with its consequences before anything is charged. */
interface Pending {
  order: string;
  amount: number;
  /** The same order and amount as an earlier payment: the API answers it without charging again. */
  repeat: boolean;
}

export function WithdrawPage(props: { data: MemberData }) {
  const { balance, orders, withdrawals, refresh } = props.data;
  const [order, setOrder] = useState('');
  const [sum, setSum] = useState('');
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState<Pending | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const payButton = useRef<HTMLButtonElement>(null);
  // Cancel takes its buttons away: the focus goes back to the one that opened them, not to the page
  const [refocus, setRefocus] = useState(false);

  const number = order.trim();
  const luhn = checkOrderNumber(order);
  // a number uploaded to earn points is a past purchase: points pay for a new one
  const earning = luhn.ok ? orders?.find((o) => o.number === number) : undefined;
  const orderProblem = !luhn.ok
    ? luhn.problem || undefined
    : earning
      ? `You uploaded ${number} to earn points on it, so it cannot also be paid with points. Enter the number of the new order you are paying for.`
      : undefined;
  const paidBefore = luhn.ok ? withdrawals?.find((w) => w.order === number) : undefined;

  const amount = parseAmount(sum);
  const available = balance?.current;
  const overBalance = amount !== null && available !== undefined && amount > available;
  // a repeat of an earlier payment charges nothing; another amount for its order is refused
  const otherAmount = paidBefore !== undefined && amount !== null && hundredths(amount) !== hundredths(paidBefore.sum);
  const sumProblem =
    sum !== '' && amount === null
      ? 'A positive amount with at most two decimals, e.g. 25 or 12.50.'
      : otherAmount
        ? `Order ${number} was already paid with ${money(paidBefore?.sum ?? 0)} points; another amount for it would be refused.`
        : overBalance
          ? `That is more than your balance of ${money(available)} points.`
          : undefined;
  const ready = luhn.ok && !earning && amount !== null && !overBalance && !otherAmount && available !== undefined;

  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
  }, [confirming]);
  useEffect(() => {
    if (!refocus) return;
    setRefocus(false);
    payButton.current?.focus();
  }, [refocus]);

  function edit(set: (v: string) => void, value: string): void {
    set(value);
    setConfirming(null);
    // what the last payment said belongs to it, not to the one being typed
    setNotice(null);
  }

  function review(e: Event): void {
    e.preventDefault();
    if (!ready || amount === null) {
      setNotice({ tone: 'bad', text: 'Enter a valid order number and an amount within your balance first.' });
      return;
    }
    setNotice(null);
    setConfirming({ order: number, amount, repeat: paidBefore !== undefined });
  }

  async function pay(p: Pending): Promise<void> {
    const restoreFocus = focusKeeper(() => document.getElementById('withdraw-order'));
    setBusy(true);
    const r = await loyalty.withdraw(p.order, p.amount);
    setBusy(false);
    setConfirming(null);
    switch (r.status) {
      case 200:
        setNotice(
          p.repeat
            ? { tone: 'info', text: `Order ${p.order} was already paid with ${money(p.amount)} points. Nothing more was charged.` }
            : { tone: 'ok', text: `Done: ${money(p.amount)} points paid towards order ${p.order}.` },
        );
        setOrder('');
        setSum('');
        break;
      case 402: {
        // the balance on the page is the one it was loaded with: spent meanwhile elsewhere (another
        // tab, the API), it would read "you have 700, the payment needs 500"
        const now = await loyalty.balance();
        const have = now.data ? `you now have ${money(now.data.current)} points` : 'you have fewer points than that';
        setNotice({ tone: 'bad', text: `Not enough points: ${have}, the payment needs ${money(p.amount)}. Nothing was charged.` });
        break;
      }
      case 422:
        setNotice({ tone: 'bad', text: `The payment was refused: ${r.error ?? 'invalid order number or amount'}. Nothing was charged.` });
        break;
      case 409:
        setNotice({ tone: 'bad', text: `Order ${p.order} was already paid with points in a different payment. Nothing was charged.` });
        break;
      default:
        // with the answer lost the payment may have been made: "nothing was charged" could be false,
        // and the same order and amount again is a repeat the API answers without charging twice
        setNotice({
          tone: 'bad',
          text: answerLost(r)
            ? `${failure(r, 'confirm the payment')} It may have gone through: once you are connected again, look for order ${p.order} under “Payments with points”. Paying the same amount for it again never charges twice.`
            : `${failure(r, 'make the payment')} Nothing was charged.`,
        });
    }
    restoreFocus();
    await refresh();
  }

  return (
    <>
      <h1 tabIndex={-1}>Spend points</h1>
      <Card title="Pay for an order with points" id="withdraw">
        <p class="muted">
          You have <strong data-testid="withdraw-available">{available !== undefined ? money(available) : '…'}</strong> points. One point is worth one unit of
          your local currency, so 25 points pay 25.00 of an order.
        </p>
        {available === 0 ? (
          <p class="message message-info" data-testid="withdraw-empty">
            You have no points to spend yet. <Link href="/orders">Upload your orders</Link> to earn some.
          </p>
        ) : null}
        <form onSubmit={review} class="inline-form">
          <Field
            id="withdraw-order"
            label="Order number to pay for"
            inputMode="numeric"
            autocomplete="off"
            value={order}
            onInput={(e) => edit(setOrder, e.currentTarget.value)}
            problem={orderProblem}
            hint={
              paidBefore
                ? `You already paid ${money(paidBefore.sum)} points towards this order; paying the same amount again charges nothing.`
                : 'The number on the receipt of the new order. Its last digit is a check digit, so a typo is caught before anything is paid.'
            }
          />
          <Field
            id="withdraw-sum"
            label="Points to spend"
            inputMode="decimal"
            autocomplete="off"
            placeholder="0.00"
            value={sum}
            onInput={(e) => edit(setSum, e.currentTarget.value)}
            problem={sumProblem}
          />
          {confirming ? null : (
            <button ref={payButton} class="primary" type="submit" disabled={busy || !ready}>
              Pay with points…
            </button>
          )}
        </form>
        {confirming ? (
          <fieldset class="confirm" data-testid="withdraw-confirm">
            <legend class="sr-only">Confirm the payment</legend>
            {confirming.repeat ? (
              <p>
                You already paid <strong>{money(confirming.amount)} points</strong> for order <span class="mono">{confirming.order}</span>. Paying again charges
                nothing: your balance stays {money(available)} points.
              </p>
            ) : (
              <p>
                Pay <strong>{money(confirming.amount)} points</strong> for order <span class="mono">{confirming.order}</span>? Your balance will be{' '}
                {money((Math.round((available ?? 0) * 100) - Math.round(confirming.amount * 100)) / 100)} points. This cannot be undone.
              </p>
            )}
            <div class="actions">
              <button ref={confirmButton} class="primary" type="button" disabled={busy} onClick={() => void pay(confirming)}>
                {busy ? 'Paying…' : 'Confirm payment'}
              </button>
              <button
                type="button"
                disabled={busy}
                onClick={() => {
                  setConfirming(null);
                  setRefocus(true);
                }}
              >
                Cancel
              </button>
            </div>
          </fieldset>
        ) : null}
        <Message notice={notice} testId="withdraw-message" />
      </Card>
      <Card title="Payments with points" id="withdrawals">
        {withdrawals === null ? (
          <p class="muted">Loading…</p>
        ) : withdrawals.length === 0 ? (
          <p class="muted">No payments yet.</p>
        ) : (
          <table class="rows" data-testid="withdrawals-table">
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col" class="num">
                  Points
                </th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              {[...withdrawals].reverse().map((w) => (
                <tr key={w.order} data-withdrawal={w.order}>
                  <td data-label="Order" class="mono">
                    {w.order}
                  </td>
                  <td data-label="Points" class="num">
                    −{money(w.sum)}
                  </td>
                  <td data-label="When">
                    <time dateTime={w.processed_at}>{when(w.processed_at)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}
