import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ledger, type Reply, type Wallet, type WalletTx } from '../api';
import { Badge, Card, Field, focusKeeper, Message, type Notice } from '../components/ui';
import { POLL_MS, RETRY_MS, useWhenShownAgain } from '../data';
import { hundredths, money, parseAmount, when } from '../format';
import { useIdempotencyKey } from '../idempotency';
import { PASSWORD_RULE, newPasswordFits } from '../password';
import { failure } from '../problems';
import { txStatus } from '../statuses';

/** How often, and for how long, a sent transfer is followed to its final status. */
const FOLLOW_EVERY_MS = 400;
const FOLLOW_FOR_MS = 60_000;

function randomWalletId(): string {
  const a = new Uint32Array(2);
  crypto.getRandomValues(a);
  return String(1 + ((a[0] ?? 0) % 9)) + String(a[1] ?? 0).padStart(10, '0');
}

/**
 * A 502 is the ledger behind Gophermart; no answer at all is this device's connection, told as the
 * header's banner tells it (blaming the ledger there sent members to wait for a ledger that was fine).
 */
function ledgerProblem(r: Reply<unknown>, action: string, how: { retried?: boolean } = {}): string {
  if (r.status === 502) return `We could not ${action}: the wallet ledger is unavailable right now. Try again in a moment.`;
  return failure(r, action, how);
}

const pendingTx = (t: WalletTx): boolean => t.status === 'PENDING' || t.status === 'PROCESSING';
const isFinalTx = (t: WalletTx): boolean => !pendingTx(t);
const outgoing = (t: WalletTx): boolean => t.amount.trim().startsWith('-');
/** What a member can still send: the balance minus what is held for transfers in progress. */
export const availableOf = (w: Wallet): number => (hundredths(w.balance) ?? 0) - (hundredths(w.reserved) ?? 0);

interface Ledger {
  wallets: Wallet[] | null;
  history: Record<string, WalletTx[]>;
  problem: string | null;
}

export function Wallets(props: { member: string }) {
  const [connected, setConnected] = useState<boolean | undefined>(undefined);
  // the session question itself failed: whether the member is connected is unknown, which is not "not connected"
  const [sessionProblem, setSessionProblem] = useState<string | null>(null);
  // the ledger refused the member's ledger token (expired): the connect form says why it is back
  const [ended, setEnded] = useState(false);
  const [state, setState] = useState<Ledger>({ wallets: null, history: {}, problem: null });
  const expire = useCallback(() => {
    setEnded(true);
    setConnected(false);
  }, []);

  const checkSession = useCallback(async () => {
    const r = await ledger.session();
    if (r.status === 200 && r.data) {
      setSessionProblem(null);
      setConnected(r.data.connected);
    } else setSessionProblem(failure(r, 'open your wallets', { retried: true }));
  }, []);
  useEffect(() => {
    void checkSession();
  }, [checkSession]);
  useEffect(() => {
    if (sessionProblem === null) return;
    const timer = setInterval(() => void checkSession(), RETRY_MS);
    return () => clearInterval(timer);
  }, [sessionProblem, checkSession]);

  const load = useCallback(async () => {
    const list = await ledger.wallets();
    if (list.status === 401) return expire();
    if (!list.data) return setState((s) => ({ ...s, problem: ledgerProblem(list, 'load your wallets', { retried: true }) }));
    const wallets = list.data;
    const histories = await Promise.all(wallets.map((w) => (w.status === 'ACTIVE' ? ledger.transactions(w.wallet_id) : Promise.resolve(null))));
    if (histories.some((h) => h?.status === 401)) return expire();
    const failed = histories.find((h) => h?.error !== undefined);
    const history: Record<string, WalletTx[]> = {};
    wallets.forEach((w, i) => {
      const h = histories[i];
      history[w.wallet_id] = h?.data ?? [];
    });
    setState({ wallets, history, problem: failed ? ledgerProblem(failed, 'load a wallet history', { retried: true }) : null });
  }, [expire]);

  useEffect(() => {
    if (connected) void load();
  }, [connected, load]);
  // money sent to the member's wallets from elsewhere shows when they come back to the tab
  useWhenShownAgain(useCallback(() => (connected ? load() : undefined), [connected, load]));

  const creating = state.wallets?.some((w) => w.status === 'CREATING') ?? false;
  const moving = Object.values(state.history).some((txs) => txs.some(pendingTx));
  const every = !connected ? 0 : state.problem ? RETRY_MS : creating || moving ? POLL_MS : 0;
  useEffect(() => {
    if (every === 0) return;
    const timer = setInterval(() => void load(), every);
    return () => clearInterval(timer);
  }, [every, load]);

  const wallets = state.wallets ?? [];
  return (
    <>
      <h1 tabIndex={-1}>Wallets</h1>
      {connected === undefined ? (
        sessionProblem ? (
          <p class="message message-bad" role="alert" data-testid="wallets-problem">
            {sessionProblem}
          </p>
        ) : (
          <p class="muted">Checking your ledger session…</p>
        )
      ) : !connected ? (
        <Connect
          member={props.member}
          ended={ended}
          onConnected={() => {
            setEnded(false);
            setConnected(true);
          }}
        />
      ) : (
        <>
          {state.problem ? (
            <p class="message message-bad" role="alert" data-testid="wallets-problem">
              {state.problem}
            </p>
          ) : null}
          <Card title="Your wallets" id="wallet-list">
            {state.wallets === null ? (
              <p class="muted">{state.problem ? 'Your wallets will show here as soon as the ledger answers.' : 'Loading…'}</p>
            ) : wallets.length === 0 ? (
              <p class="muted">No wallets yet: create one with the form below.</p>
            ) : (
              <p>
                <button type="button" onClick={() => void load()}>
                  Refresh balances
                </button>
              </p>
            )}
            {wallets.map((w) => (
              <WalletCard key={w.wallet_id} wallet={w} txs={state.history[w.wallet_id]} />
            ))}
          </Card>
          <div class="grid2">
            <Transfer wallets={wallets} loaded={state.wallets !== null} onSettled={() => void load()} onUnauthorized={expire} />
            <CreateWallet wallets={wallets} onCreated={() => void load()} onUnauthorized={expire} />
          </div>
        </>
      )}
    </>
  );
}

function Connect(props: { member: string; ended: boolean; onConnected: () => void }) {
  const [login, setLogin] = useState(props.member);
  const [password, setPassword] = useState('');
  const [notice, setNotice] = useState<Notice | null>(
    props.ended ? { tone: 'info', text: 'Your wallet ledger session has ended. Sign in to the ledger again to see and use your wallets.' } : null,
  );

  async function go(mode: 'signin' | 'signup'): Promise<void> {
    const name = login.trim();
    if (name === '' || password === '') {
      setNotice({ tone: 'bad', text: 'Enter both a login and a password.' });
      return;
    }
    if (mode === 'signup' && !newPasswordFits(password)) {
      setNotice({ tone: 'bad', text: `Choose a ledger password of ${PASSWORD_RULE}` });
      return;
    }
    const r = mode === 'signup' ? await ledger.register(name, password) : await ledger.login(name, password);
    if (r.status === 200) return props.onConnected();
    if (r.status === 401) setNotice({ tone: 'bad', text: 'Wrong ledger login or password.' });
    else if (r.status === 409) setNotice({ tone: 'bad', text: `The ledger login “${name}” is already taken. Sign in instead if it is yours.` });
    else if (r.status === 400) setNotice({ tone: 'bad', text: `Check the form: ${r.error ?? 'bad request'}.` });
    else setNotice({ tone: 'bad', text: ledgerProblem(r, 'connect you to the ledger') });
  }

  return (
    <Card title="Connect to the wallet ledger" id="connect">
      <p class="muted">Wallets live in a separate ledger with its own accounts. Sign in there (or create a ledger account) to see and use your wallets.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void go('signin');
        }}
      >
        <Field
          id="ledger-login"
          label="Ledger login"
          autocomplete="username"
          value={login}
          onInput={(e) => {
            setLogin(e.currentTarget.value);
            setNotice(null);
          }}
        />
        <Field
          id="ledger-password"
          label="Ledger password"
          type="password"
          autocomplete="current-password"
          hint={`A new ledger account needs ${PASSWORD_RULE}`}
          value={password}
          onInput={(e) => {
            setPassword(e.currentTarget.value);
            setNotice(null);
          }}
        />
        <div class="actions">
          <button class="primary" type="submit">
            Sign in to the ledger
          </button>
          <button type="button" onClick={() => void go('signup')}>
            Create a ledger account
          </button>
        </div>
      </form>
      <Message notice={notice} testId="connect-message" />
    </Card>
  );
}

function CreateWallet(props: { wallets: Wallet[]; onCreated: () => void; onUnauthorized: () => void }) {
  const [id, setId] = useState('');
  const [busy, setBusy] = useState(false);
  // `created`: the wallet a "being created" note is about, so it can say "ready" once it is
  const [notice, setNotice] = useState<(Notice & { created?: string }) | null>(null);
  const ready = notice?.created ? props.wallets.find((w) => w.wallet_id === notice.created && w.status === 'ACTIVE') : undefined;
  const shown: Notice | null = ready ? { tone: 'ok', text: `Wallet ${ready.wallet_id} is ready: give its number to whoever pays you.` } : notice;
  const idempotency = useIdempotencyKey();
  const inFlight = useRef(false);
  const problem = id !== '' && !/^\d+$/.test(id) ? 'Digits only.' : undefined;

  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    if (inFlight.current) return;
    if (!/^\d+$/.test(id)) return setNotice({ tone: 'bad', text: 'A wallet id is a string of digits.' });
    inFlight.current = true;
    const restoreFocus = focusKeeper();
    setBusy(true);
    const r = await ledger.createWallet(id, idempotency.keyFor(id));
    inFlight.current = false;
    setBusy(false);
    restoreFocus();
    if (r.status === 0 || r.status >= 500)
      return setNotice({ tone: 'bad', text: `${ledgerProblem(r, 'create the wallet')} Creating it again is safe: a wallet id is never created twice.` });
    idempotency.settle();
    if (r.status === 202 || r.status === 200 || r.status === 201) {
      setNotice({ tone: 'ok', text: `Wallet ${id} is being created. It starts at 0.00.`, created: id });
      setId('');
      props.onCreated();
    } else if (r.status === 409) setNotice({ tone: 'bad', text: `The wallet id ${id} is already taken. Pick another one.` });
    else if (r.status === 401) props.onUnauthorized();
    else if (r.status === 400) setNotice({ tone: 'bad', text: `Not a valid wallet id: ${r.error ?? ''}` });
    else setNotice({ tone: 'bad', text: ledgerProblem(r, 'create the wallet') });
  }

  return (
    <Card title="Create a wallet" id="create-wallet">
      <form onSubmit={submit}>
        <Field
          id="wallet-id"
          label="Wallet id"
          inputMode="numeric"
          autocomplete="off"
          value={id}
          onInput={(e) => {
            setId(e.currentTarget.value.trim());
            setNotice(null);
          }}
          problem={problem}
          hint="Any digits you like; give this number to whoever pays you."
        />
        <div class="actions">
          <button class="primary" type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create wallet'}
          </button>
          <button
            type="button"
            onClick={() => {
              setId(randomWalletId());
              setNotice(null);
            }}
          >
            Suggest an id
          </button>
        </div>
      </form>
      <Message notice={shown} testId="create-wallet-message" />
    </Card>
  );
}

/** Reads the sender's history until the transfer has a final status (or the wait runs out). */
async function follow(from: string, txId: string, stillWanted: () => boolean): Promise<WalletTx | 'unknown' | 'unauthorized'> {
  const deadline = Date.now() + FOLLOW_FOR_MS;
  while (Date.now() < deadline && stillWanted()) {
    const r = await ledger.transactions(from);
    if (r.status === 401) return 'unauthorized';
    const entry = r.data?.find((t) => t.tx_id === txId);
    if (entry && isFinalTx(entry)) return entry;
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_EVERY_MS));
  }
  return 'unknown';
}

function outcome(t: WalletTx, to: string): Notice {
  const amount = money(t.amount.replace(/^[+-]/, ''));
  if (t.status === 'SUCCESSFUL') return { tone: 'ok', text: `Sent: ${amount} to wallet ${to}.` };
  if (t.status === 'INVALID') return { tone: 'bad', text: `Refused: ${t.note || 'the ledger refused this transfer'}. Nothing was moved.` };
  return { tone: 'bad', text: `Failed: ${t.note || 'the transfer could not be completed'}. Nothing was moved; you can send it again.` };
}

function Transfer(props: { wallets: Wallet[]; loaded: boolean; onSettled: () => void; onUnauthorized: () => void }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [amount, setAmount] = useState('');
  const [busy, setBusy] = useState<'sending' | 'following' | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const idempotency = useIdempotencyKey();
  const inFlight = useRef(false);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );

  const usable = props.wallets.filter((w) => w.status === 'ACTIVE');
  const source = usable.find((w) => w.wallet_id === from) ?? usable[0];
  const parsed = parseAmount(amount);
  const cents = parsed === null ? null : Math.round(parsed * 100);
  const available = source ? availableOf(source) : 0;
  const over = cents !== null && source !== undefined && cents > available;
  const held = source ? (hundredths(source.reserved) ?? 0) : 0;
  const amountProblem =
    amount.trim() !== '' && parsed === null
      ? 'A positive amount with at most two decimals.'
      : over
        ? `More than the ${money(available / 100)} available in wallet ${source?.wallet_id}${held > 0 ? ` (${money(held / 100)} is held for transfers in progress)` : ''}.`
        : undefined;
  const toProblem = to !== '' && !/^\d+$/.test(to) ? 'Digits only.' : source && to === source.wallet_id ? 'Choose a different wallet to send to.' : undefined;
  const ready = source !== undefined && /^\d+$/.test(to) && to !== source.wallet_id && cents !== null && !over;

  function edit(set: (v: string) => void, value: string): void {
    set(value);
    if (busy === null) setNotice(null);
  }

  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    // a second click while the first is on its way is the same submission: ignore it
    if (inFlight.current) return;
    if (!source || !ready || cents === null) {
      setNotice({ tone: 'bad', text: 'Choose a wallet to send from, a different receiving wallet and an amount within what is available.' });
      return;
    }
    const fromId = source.wallet_id;
    const sum = (cents / 100).toFixed(2);
    inFlight.current = true;
    const restoreFocus = focusKeeper();
    setBusy('sending');
    setNotice(null);
    try {
      const r = await ledger.transfer(fromId, to, sum, idempotency.keyFor(`${fromId}>${to}:${sum}`));
      if (r.status === 0 || r.status >= 500) {
        // the answer may have been lost after the ledger took it: the same key makes a retry safe
        setNotice({ tone: 'bad', text: `${ledgerProblem(r, 'send the transfer')} Pressing Send again is safe: it cannot pay twice.` });
        return;
      }
      idempotency.settle();
      if (r.status === 202 && r.data) {
        setBusy('following');
        setNotice({ tone: 'info', text: `Sending ${money(sum)} to wallet ${to}…` });
        const done = await follow(fromId, r.data.tx_id, () => mounted.current);
        if (!mounted.current) return;
        if (done === 'unauthorized') return props.onUnauthorized();
        if (done === 'unknown') setNotice({ tone: 'info', text: `The transfer to wallet ${to} is still in progress; its status shows in the history below.` });
        else {
          setNotice(outcome(done, to));
          if (done.status === 'SUCCESSFUL') setAmount('');
        }
        props.onSettled();
      } else if (r.status === 403) setNotice({ tone: 'bad', text: `Wallet ${fromId} is not yours, so you cannot send from it.` });
      else if (r.status === 401) props.onUnauthorized();
      else if (r.status === 400 || r.status === 422)
        setNotice({ tone: 'bad', text: `The transfer was refused: ${r.error ?? 'bad request'}. Nothing was moved.` });
      else setNotice({ tone: 'bad', text: ledgerProblem(r, 'send the transfer') });
    } finally {
      inFlight.current = false;
      if (mounted.current) {
        setBusy(null);
        restoreFocus();
      }
    }
  }

  return (
    <Card title="Send money" id="transfer">
      <form onSubmit={submit}>
        <div class="field">
          <label for="transfer-from">From wallet</label>
          <select
            id="transfer-from"
            value={source?.wallet_id ?? ''}
            onChange={(e) => edit(setFrom, e.currentTarget.value)}
            disabled={usable.length === 0}
            aria-describedby="transfer-from-note"
          >
            {usable.map((w) => (
              <option key={w.wallet_id} value={w.wallet_id}>
                {w.wallet_id} · {money(availableOf(w) / 100)}
              </option>
            ))}
          </select>
          <p id="transfer-from-note" class="note">
            {!props.loaded
              ? 'Your wallets show here once the ledger has answered.'
              : usable.length === 0
                ? 'Create a wallet first; money arrives in it by deposit or transfer.'
                : `${money(available / 100)} available to send${held > 0 ? ` (${money(held / 100)} is held for transfers in progress)` : ''}.`}
          </p>
        </div>
        <Field
          id="transfer-to"
          label="To wallet id"
          inputMode="numeric"
          autocomplete="off"
          value={to}
          onInput={(e) => edit(setTo, e.currentTarget.value.trim())}
          problem={toProblem}
        />
        <Field
          id="transfer-amount"
          label="Amount"
          inputMode="decimal"
          autocomplete="off"
          placeholder="0.00"
          value={amount}
          onInput={(e) => edit(setAmount, e.currentTarget.value)}
          problem={amountProblem}
        />
        <button class="primary" type="submit" disabled={busy !== null || !ready}>
          {busy === 'sending' ? 'Sending…' : busy === 'following' ? 'Waiting for the ledger…' : 'Send'}
        </button>
      </form>
      <Message notice={notice} testId="transfer-message" />
    </Card>
  );
}

function describeTx(t: WalletTx): string {
  if (t.kind === 'deposit') return 'Deposit';
  if (t.counterparty) return outgoing(t) ? `To wallet ${t.counterparty}` : `From wallet ${t.counterparty}`;
  return outgoing(t) ? 'Sent' : 'Received';
}

function WalletCard(props: { wallet: Wallet; txs: WalletTx[] | undefined }) {
  const w = props.wallet;
  const held = hundredths(w.reserved) ?? 0;
  return (
    <article class="wallet" data-wallet={w.wallet_id} data-status={w.status} aria-label={`Wallet ${w.wallet_id}`}>
      <header class="wallet-head">
        <h3 class="mono">{w.wallet_id}</h3>
        {w.status === 'CREATING' ? <Badge label="Being created" tone="wait" code="CREATING" /> : null}
        <div class="wallet-money">
          <span>
            Balance <strong data-testid="wallet-balance">{money(w.balance)}</strong>
          </span>
          {held > 0 ? <span class="muted">{money(held / 100)} held for transfers in progress</span> : null}
        </div>
        <span class="muted wallet-since">since {when(w.created_at)}</span>
      </header>
      {props.txs && props.txs.length > 0 ? (
        <table class="rows">
          <caption class="sr-only">History of wallet {w.wallet_id}</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col" class="num">
                Amount
              </th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {[...props.txs].reverse().map((t) => {
              const words = txStatus(t.status, outgoing(t));
              const moved = t.status === 'SUCCESSFUL';
              return (
                <tr key={t.tx_id} data-tx={t.tx_id} data-status={t.status}>
                  <td data-label="When">
                    <time dateTime={t.initiated_at}>{when(t.initiated_at)}</time>
                  </td>
                  <td data-label="What" class={t.counterparty ? 'mono-ish' : undefined}>
                    {/* one block beside the label on a phone, where each cell lays its children out in a row */}
                    <div>
                      {describeTx(t)}
                      {t.note && !moved ? <span class="status-why">{t.note}</span> : null}
                    </div>
                  </td>
                  <td data-label="Amount" class={`num ${moved ? (outgoing(t) ? 'out' : 'in') : ''}`}>
                    {/* struck through is the amount alone, not the label a phone shows beside it */}
                    <span class={moved ? undefined : 'void'}>{money(t.amount, true)}</span>
                  </td>
                  <td data-label="Status">
                    <Badge label={words.label} tone={words.tone} code={t.status} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : props.txs ? (
        <p class="muted">{w.status === 'CREATING' ? 'The ledger is setting this wallet up.' : 'No money has moved yet.'}</p>
      ) : null}
    </article>
  );
}
