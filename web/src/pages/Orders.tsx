import { useState } from 'preact/hooks';
import { loyalty } from '../api';
import { Badge, Card, Field, focusKeeper, Message, type Notice } from '../components/ui';
import { isFinal, type MemberData } from '../data';
import { checkOrderNumber, money, when } from '../format';
import { answerLost, failure } from '../problems';
import { orderStatus } from '../statuses';

/** The last upload's result; `waitingFor` ties a "being calculated" note to its order. */
type UploadNotice = Notice & { waitingFor?: string };

export function Orders(props: { data: MemberData }) {
  const { orders, refresh } = props.data;
  const [number, setNumber] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<UploadNotice | null>(null);
  const check = checkOrderNumber(number);

  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    const n = number.trim();
    if (!check.ok) {
      setNotice({ tone: 'bad', text: check.problem || 'Type an order number first.' });
      return;
    }
    const restoreFocus = focusKeeper();
    setBusy(true);
    const r = await loyalty.upload(n);
    setBusy(false);
    switch (r.status) {
      case 202:
        setNotice({ tone: 'ok', text: `Order ${n} uploaded. Its points are being calculated.`, waitingFor: n });
        setNumber('');
        break;
      case 200:
        setNotice({ tone: 'info', text: `You have already uploaded order ${n}. Nothing changed — it is in the list below.` });
        setNumber('');
        break;
      case 409:
        setNotice({ tone: 'bad', text: `Order ${n} was already uploaded by another member, so it cannot earn points for you.` });
        break;
      case 422:
        setNotice({ tone: 'bad', text: `That is not a valid order number (${r.error ?? 'rejected'}). Check it for a typo.` });
        break;
      default:
        // an upload whose answer was lost may have been taken: uploading it again only answers "already uploaded"
        setNotice({
          tone: 'bad',
          text: `${failure(r, 'upload the order')} ${answerLost(r) ? 'Uploading the same number again is safe: an order never counts twice.' : 'Nothing was uploaded.'}`,
        });
    }
    restoreFocus();
    await refresh();
  }

  // the "being calculated" note goes as soon as its order has a final status
  const uploaded = notice?.waitingFor ? orders?.find((o) => o.number === notice.waitingFor) : undefined;
  const shown = uploaded && isFinal(uploaded) ? null : notice;
  const waiting = orders?.filter((o) => !isFinal(o)).length ?? 0;
  return (
    <>
      <h1 tabIndex={-1}>Orders</h1>
      <Card title="Upload an order" id="upload">
        <p class="muted">Upload the order number from each receipt: its points are credited to your balance once the store has calculated them.</p>
        <form onSubmit={submit} class="inline-form">
          <Field
            id="order-number"
            label="Order number"
            inputMode="numeric"
            autocomplete="off"
            value={number}
            onInput={(e) => {
              setNumber(e.currentTarget.value);
              if (notice?.tone === 'bad') setNotice(null);
            }}
            problem={check.ok ? undefined : check.problem || undefined}
            ok={check.ok ? 'Looks like a valid order number.' : undefined}
            hint="The digits printed on your receipt; the last one is a check digit that catches typos."
          />
          <button class="primary" type="submit" disabled={busy || !check.ok}>
            {busy ? 'Uploading…' : 'Upload'}
          </button>
        </form>
        <Message notice={shown} testId="upload-message" />
      </Card>
      <Card title="Your orders" id="orders">
        {waiting > 0 ? (
          <p class="muted live" data-testid="orders-refreshing">
            {waiting} {waiting === 1 ? 'order is' : 'orders are'} waiting for points; this list updates by itself.
          </p>
        ) : null}
        {orders === null ? (
          <p class="muted">Loading…</p>
        ) : orders.length === 0 ? (
          <p class="muted">No orders yet. Upload your first one above.</p>
        ) : (
          <table class="rows" data-testid="orders-table">
            <thead>
              <tr>
                <th scope="col">Number</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Points
                </th>
                <th scope="col">Uploaded</th>
              </tr>
            </thead>
            <tbody>
              {[...orders].reverse().map((o) => {
                const words = orderStatus(o);
                return (
                  <tr key={o.number} data-order={o.number} data-status={o.status}>
                    <td data-label="Number" class="mono">
                      {o.number}
                    </td>
                    <td data-label="Status" class="status">
                      <Badge label={words.label} tone={words.tone} code={o.status} />
                      {words.explain ? <span class="status-why">{words.explain}</span> : null}
                    </td>
                    <td data-label="Points" class={`num points-${words.tone}`}>
                      {o.status === 'PROCESSED' ? (o.accrual ? `+${money(o.accrual)}` : '0.00') : o.status === 'INVALID' ? '—' : 'pending'}
                    </td>
                    <td data-label="Uploaded" class="when">
                      <time dateTime={o.uploaded_at}>{when(o.uploaded_at)}</time>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}
