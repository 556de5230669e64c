import { useCallback, useEffect, useState } from 'preact/hooks';
import { ledger, type Reply, type WalletBalance, type WalletTx } from '../api';
import { Badge, Card, Field, Message, type Notice } from '../components/ui';
import { POLL_MS } from '../data';
import { money, parseAmount, when } from '../format';

/**
 * The ledger has no "list my wallets" call, so the app remembers the ids it created or was
 * given, per member. Wallet ids are public by design (you hand yours to whoever pays you);
 * no token, password or balance is ever stored.
 */
const storageKey = (member: string): string => `gophermart.wallets.${member}`;
function loadIds(member: string): string[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(storageKey(member)) ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && /^\d+$/.test(x)) : [];
  } catch {
    return [];
  }
}
export function forgetWallets(member: string): void {
  localStorage.removeItem(storageKey(member));
}

function randomWalletId(): string {
  const a = new Uint32Array(2);
  crypto.getRandomValues(a);
  return String(1 + ((a[0] ?? 0) % 9)) + String(a[1] ?? 0).padStart(10, '0');
}

function unavailable(r: Reply<unknown>): string {
  if (r.status === 0 || r.status === 502) return 'The wallet ledger is unavailable right now. Try again in a moment.';
  return `The ledger answered ${r.status}: ${r.error ?? ''}`;
}

interface WalletView {
  balance?: WalletBalance;
  txs?: WalletTx[];
  problem?: string;
}

const pendingTx = (t: WalletTx): boolean => t.status === 'PENDING' || t.status === 'PROCESSING';

export function Wallets(props: { member: string }) {
  const [connected, setConnected] = useState<boolean | undefined>(undefined);
  const [ids, setIds] = useState<string[]>(() => loadIds(props.member));
  const [views, setViews] = useState<Record<string, WalletView>>({});

  const remember = (next: string[]): void => {
    setIds(next);
    localStorage.setItem(storageKey(props.member), JSON.stringify(next));
  };

  useEffect(() => {
    void ledger.session().then((r) => setConnected(r.data?.connected ?? false));
  }, []);

  const load = useCallback(async () => {
    const entries = await Promise.all(
      ids.map(async (id): Promise<[string, WalletView]> => {
        const [b, t] = await Promise.all([ledger.balance(id), ledger.transactions(id)]);
        if (b.status === 401 || t.status === 401) setConnected(false);
        // the ledger registers a wallet before it answers 202, so a 404 is final, not "not yet"
        const problem =
          b.status === 404
            ? 'No such wallet in the ledger.'
            : b.status === 403
              ? 'This wallet belongs to someone else.'
              : b.error
                ? unavailable(b)
                : t.error
                  ? unavailable(t)
                  : undefined;
        return [id, { balance: b.data, txs: t.data, problem }];
      }),
    );
    setViews(Object.fromEntries(entries));
  }, [ids]);

  useEffect(() => {
    if (connected) void load();
  }, [connected, load]);

  const busy = Object.values(views).some((v) => v.txs?.some(pendingTx));
  useEffect(() => {
    if (!connected || !busy) return;
    const timer = setInterval(() => void load(), POLL_MS);
    return () => clearInterval(timer);
  }, [connected, busy, load]);

  return (
    <>
      <h1 tabIndex={-1}>Wallets</h1>
      {connected === undefined ? (
        <p class="muted">Checking your ledger session…</p>
      ) : !connected ? (
        <Connect member={props.member} onConnected={() => setConnected(true)} />
      ) : (
        <>
          <div class="grid2">
            <CreateWallet
              onCreated={(id) => {
                if (!ids.includes(id)) remember([...ids, id]);
              }}
              onUnauthorized={() => setConnected(false)}
            />
            <Transfer ids={ids} onSent={() => void load()} onUnauthorized={() => setConnected(false)} />
          </div>
          <Card title="Your wallets" id="wallet-list">
            {ids.length === 0 ? (
              <p class="muted">No wallets yet: create one above.</p>
            ) : (
              <p>
                <button type="button" onClick={() => void load()}>
                  Refresh balances
                </button>
              </p>
            )}
            {ids.map((id) => (
              <WalletCard key={id} id={id} view={views[id]} onForget={() => remember(ids.filter((x) => x !== id))} />
            ))}
            <AddExisting
              onAdd={(id) => {
                if (!ids.includes(id)) remember([...ids, id]);
              }}
            />
          </Card>
        </>
      )}
    </>
  );
}

function Connect(props: { member: string; onConnected: () => void }) {
  const [login, setLogin] = useState(props.member);
  const [password, setPassword] = useState('');
  const [notice, setNotice] = useState<Notice | null>(null);

  async function go(mode: 'signin' | 'signup'): Promise<void> {
    if (login.trim() === '' || password === '') {
      setNotice({ tone: 'bad', text: 'Enter both a login and a password.' });
      return;
    }
    const r = mode === 'signup' ? await ledger.register(login, password) : await ledger.login(login, password);
    if (r.status === 200) return props.onConnected();
    if (r.status === 401) setNotice({ tone: 'bad', text: 'Wrong ledger login or password.' });
    else if (r.status === 409) setNotice({ tone: 'bad', text: `The ledger login “${login}” is already taken. Sign in instead if it is yours.` });
    else if (r.status === 400) setNotice({ tone: 'bad', text: `Check the form: ${r.error ?? 'bad request'}.` });
    else setNotice({ tone: 'bad', text: unavailable(r) });
  }

  return (
    <Card title="Connect to the wallet ledger" id="connect">
      <p class="muted">Wallets live in a separate ledger with its own accounts. Signing in there keeps a separate cookie for this site's wallet pages only.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void go('signin');
        }}
      >
        <Field id="ledger-login" label="Ledger login" autocomplete="username" value={login} onInput={(e) => setLogin(e.currentTarget.value)} />
        <Field
          id="ledger-password"
          label="Ledger password"
          type="password"
          autocomplete="current-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
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

function CreateWallet(props: { onCreated: (id: string) => void; onUnauthorized: () => void }) {
  const [id, setId] = useState('');
  const [notice, setNotice] = useState<Notice | null>(null);
  const problem = id !== '' && !/^\d+$/.test(id) ? 'Digits only.' : undefined;

  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    if (!/^\d+$/.test(id)) return setNotice({ tone: 'bad', text: 'A wallet id is a string of digits.' });
    const r = await ledger.createWallet(id);
    if (r.status === 202 || r.status === 200 || r.status === 201) {
      props.onCreated(id);
      setNotice({ tone: 'ok', text: `Wallet ${id} is being created. It starts with 0.00.` });
      setId('');
    } else if (r.status === 409) setNotice({ tone: 'bad', text: `The wallet id ${id} is already taken. Pick another one.` });
    else if (r.status === 401) props.onUnauthorized();
    else if (r.status === 400) setNotice({ tone: 'bad', text: `Not a valid wallet id: ${r.error ?? ''}` });
    else setNotice({ tone: 'bad', text: unavailable(r) });
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
          onInput={(e) => setId(e.currentTarget.value.trim())}
          problem={problem}
          hint="Any digits; which shard holds it follows from the number."
        />
        <div class="actions">
          <button class="primary" type="submit">
            Create wallet
          </button>
          <button type="button" onClick={() => setId(randomWalletId())}>
            Suggest an id
          </button>
        </div>
      </form>
      <Message notice={notice} testId="create-wallet-message" />
    </Card>
  );
}

function Transfer(props: { ids: string[]; onSent: () => void; onUnauthorized: () => void }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [amount, setAmount] = useState('');
  const [notice, setNotice] = useState<Notice | null>(null);
  const source = from || props.ids[0] || '';
  const parsed = parseAmount(amount);

  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    if (!source || !/^\d+$/.test(to) || parsed === null)
      return setNotice({ tone: 'bad', text: 'Choose a source wallet, a receiving wallet id (digits) and a positive amount with at most two decimals.' });
    if (source === to) return setNotice({ tone: 'bad', text: 'The two wallets must be different.' });
    const r = await ledger.transfer(source, to, amount.trim().replace(',', '.'));
    if (r.status === 202 && r.data) {
      setNotice({ tone: 'ok', text: `Transfer accepted (transaction ${r.data.tx_id}). Its status shows in the wallet history below.` });
      setAmount('');
      props.onSent();
    } else if (r.status === 403) setNotice({ tone: 'bad', text: `Wallet ${source} is not yours, so you cannot send from it.` });
    else if (r.status === 401) props.onUnauthorized();
    else if (r.status === 400) setNotice({ tone: 'bad', text: `The transfer was refused: ${r.error ?? 'bad request'}.` });
    else setNotice({ tone: 'bad', text: unavailable(r) });
  }

  return (
    <Card title="Transfer" id="transfer">
      <form onSubmit={submit}>
        <div class="field">
          <label for="transfer-from">From wallet</label>
          <select id="transfer-from" value={source} onChange={(e) => setFrom(e.currentTarget.value)} disabled={props.ids.length === 0}>
            {props.ids.map((id) => (
              <option key={id} value={id}>
                {id}
              </option>
            ))}
          </select>
        </div>
        <Field
          id="transfer-to"
          label="To wallet id"
          inputMode="numeric"
          autocomplete="off"
          value={to}
          onInput={(e) => setTo(e.currentTarget.value.trim())}
          problem={to !== '' && !/^\d+$/.test(to) ? 'Digits only.' : undefined}
        />
        <Field
          id="transfer-amount"
          label="Amount"
          inputMode="decimal"
          autocomplete="off"
          placeholder="0.00"
          value={amount}
          onInput={(e) => setAmount(e.currentTarget.value)}
          problem={amount.trim() !== '' && parsed === null ? 'A positive amount with at most two decimals.' : undefined}
        />
        <button class="primary" type="submit" disabled={props.ids.length === 0}>
          Send
        </button>
      </form>
      <Message notice={notice} testId="transfer-message" />
    </Card>
  );
}

function WalletCard(props: { id: string; view: WalletView | undefined; onForget: () => void }) {
  const v = props.view;
  return (
    <article class="wallet" data-wallet={props.id} aria-label={`Wallet ${props.id}`}>
      <header class="wallet-head">
        <h3 class="mono">{props.id}</h3>
        <div class="wallet-money">
          <span>
            Balance <strong data-testid="wallet-balance">{v?.balance ? money(v.balance.balance) : '…'}</strong>
          </span>
          <span class="muted">Reserved {v?.balance ? money(v.balance.reserved) : '…'}</span>
        </div>
        <button type="button" class="link" onClick={props.onForget} aria-label={`Hide wallet ${props.id} from this list`}>
          Hide
        </button>
      </header>
      {v?.problem ? <p class="note note-bad">{v.problem}</p> : null}
      {v?.txs && v.txs.length > 0 ? (
        <table class="rows">
          <caption class="sr-only">Transactions of wallet {props.id}</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col" class="num">
                Amount
              </th>
              <th scope="col">Status</th>
              <th scope="col">Note</th>
            </tr>
          </thead>
          <tbody>
            {[...v.txs].reverse().map((t) => (
              <tr key={t.tx_id} data-tx={t.tx_id}>
                <td data-label="When">
                  <time dateTime={t.initiated_at}>{when(t.initiated_at)}</time>
                </td>
                <td data-label="Amount" class={t.amount.startsWith('-') ? 'num out' : 'num in'}>
                  {money(t.amount, true)}
                </td>
                <td data-label="Status">
                  <Badge status={t.status} />
                </td>
                <td data-label="Note">{t.note || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : v?.txs ? (
        <p class="muted">No transactions yet.</p>
      ) : null}
    </article>
  );
}

function AddExisting(props: { onAdd: (id: string) => void }) {
  const [id, setId] = useState('');
  const [notice, setNotice] = useState<Notice | null>(null);
  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    if (!/^\d+$/.test(id)) return setNotice({ tone: 'bad', text: 'A wallet id is a string of digits.' });
    const r = await ledger.balance(id);
    if (r.status === 200) {
      props.onAdd(id);
      setId('');
      setNotice(null);
    } else if (r.status === 403 || r.status === 404) setNotice({ tone: 'bad', text: `Wallet ${id} is not one of yours.` });
    else setNotice({ tone: 'bad', text: unavailable(r) });
  }
  return (
    <form onSubmit={submit} class="inline-form add-existing">
      <Field
        id="existing-wallet"
        label="Show a wallet you already have"
        inputMode="numeric"
        autocomplete="off"
        value={id}
        onInput={(e) => setId(e.currentTarget.value.trim())}
      />
      <button type="submit">Show</button>
      <Message notice={notice} />
    </form>
  );
}
