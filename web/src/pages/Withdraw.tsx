import { useState } from 'preact/hooks';
import { loyalty } from '../api';
import { Card, Field, Message, type Notice } from '../components/ui';
import type { MemberData } from '../data';
import { checkOrderNumber, money, parseAmount, when } from '../format';

export function WithdrawPage(props: { data: MemberData }) {
  const { balance, withdrawals, refresh } = props.data;
  const [order, setOrder] = useState('');
  const [sum, setSum] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  const orderCheck = checkOrderNumber(order);
  const amount = parseAmount(sum);
  const sumProblem = sum.trim() !== '' && amount === null ? 'A positive amount with at most two decimals, e.g. 25 or 12.50.' : undefined;
  const overdraw = amount !== null && balance !== null && amount > balance.current;

  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    if (!orderCheck.ok || amount === null) {
      setNotice({ tone: 'bad', text: 'Enter a valid order number and amount first.' });
      return;
    }
    setBusy(true);
    const r = await loyalty.withdraw(order.trim(), amount);
    setBusy(false);
    switch (r.status) {
      case 200:
        setNotice({ tone: 'ok', text: `Done: ${money(amount)} points paid towards order ${order.trim()}.` });
        setOrder('');
        setSum('');
        break;
      case 402:
        setNotice({
          tone: 'bad',
          text: `Not enough points: you have ${balance ? money(balance.current) : 'fewer'} points, the payment needs ${money(amount)}. Nothing was charged.`,
        });
        break;
      case 422:
        setNotice({ tone: 'bad', text: `The payment was refused: ${r.error ?? 'invalid order number or amount'}. Nothing was charged.` });
        break;
      case 409:
        setNotice({ tone: 'bad', text: `Order ${order.trim()} was already paid with points in a different payment. Nothing was charged.` });
        break;
      default:
        setNotice({ tone: 'bad', text: `Payment failed (${r.status || 'no answer'}): ${r.error ?? ''}` });
    }
    await refresh();
  }

  return (
    <>
      <h1 tabIndex={-1}>Spend points</h1>
      <Card title="Pay for an order with points" id="withdraw">
        <p class="muted">
          Available: <strong data-testid="withdraw-available">{balance ? money(balance.current) : '…'}</strong> points. One point is one unit of currency.
        </p>
        <form onSubmit={submit} class="inline-form">
          <Field
            id="withdraw-order"
            label="New order number"
            inputMode="numeric"
            autocomplete="off"
            value={order}
            onInput={(e) => setOrder(e.currentTarget.value)}
            problem={orderCheck.ok ? undefined : orderCheck.problem || undefined}
          />
          <Field
            id="withdraw-sum"
            label="Points to spend"
            inputMode="decimal"
            autocomplete="off"
            placeholder="0.00"
            value={sum}
            onInput={(e) => setSum(e.currentTarget.value)}
            problem={sumProblem}
            hint={overdraw ? 'More than your balance: the payment would be refused.' : undefined}
          />
          <button class="primary" type="submit" disabled={busy || !orderCheck.ok || amount === null}>
            {busy ? 'Paying…' : 'Pay with points'}
          </button>
        </form>
        <Message notice={notice} testId="withdraw-message" />
      </Card>
      <Card title="Withdrawal history" id="withdrawals">
        {withdrawals === null ? (
          <p class="muted">Loading…</p>
        ) : withdrawals.length === 0 ? (
          <p class="muted">No withdrawals yet.</p>
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
