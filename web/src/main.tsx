import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ledger, loyalty } from './api';
import { useMemberData } from './data';
import { money } from './format';
import { BalancePage } from './pages/Balance';
import { Orders } from './pages/Orders';
import { SignIn } from './pages/SignIn';
import { forgetWallets, Wallets } from './pages/Wallets';
import { WithdrawPage } from './pages/Withdraw';
import { Link, navigate, usePath } from './router';
import './style.css';

const PAGES = [
  { path: '/orders', label: 'Orders' },
  { path: '/balance', label: 'Balance' },
  { path: '/withdraw', label: 'Spend' },
  { path: '/wallets', label: 'Wallets' },
] as const;

/** Moves focus to the new page's heading so keyboard and screen-reader users land on it. */
function useFocusOnNavigate(path: string): void {
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.querySelector<HTMLElement>('main h1')?.focus();
  }, [path]);
}

function Member(props: { login: string; path: string; onSignOut: () => void; onExpired: () => void }) {
  const data = useMemberData(props.onExpired);
  const page = PAGES.find((p) => p.path === props.path) ?? PAGES[0];
  useEffect(() => {
    document.title = `${page.label} · Gophermart`;
  }, [page]);
  return (
    <>
      <header class="top">
        <a
          class="brand"
          href="/orders"
          onClick={(e) => {
            e.preventDefault();
            navigate('/orders');
          }}
        >
          Gophermart
        </a>
        <nav aria-label="Main">
          {PAGES.map((p) => (
            <Link key={p.path} href={p.path} class="nav" current={p.path === page.path}>
              {p.label}
            </Link>
          ))}
        </nav>
        <div class="who">
          <span class="chip" title="Current balance" data-testid="header-balance">
            {data.balance ? money(data.balance.current) : '…'} pts
          </span>
          <span class="login" data-testid="member-login">
            {props.login}
          </span>
          <button type="button" class="link" onClick={props.onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">
        {data.problem ? (
          <p class="message message-bad" role="alert">
            {data.problem}
          </p>
        ) : null}
        {page.path === '/orders' ? <Orders data={data} /> : null}
        {page.path === '/balance' ? <BalancePage data={data} /> : null}
        {page.path === '/withdraw' ? <WithdrawPage data={data} /> : null}
        {page.path === '/wallets' ? <Wallets member={props.login} /> : null}
      </main>
    </>
  );
}

function App() {
  // undefined while the session is being checked: nothing flashes before we know
  const [login, setLogin] = useState<string | null | undefined>(undefined);
  const path = usePath();
  useFocusOnNavigate(path);

  useEffect(() => {
    void loyalty.me().then((r) => setLogin(r.status === 200 && r.data ? r.data.login : null));
  }, []);

  useEffect(() => {
    if (login === null && path !== '/signin') navigate('/signin');
    if (login && (path === '/signin' || path === '/')) navigate('/orders');
  }, [login, path]);

  async function signOut(): Promise<void> {
    if (login) forgetWallets(login);
    await Promise.all([loyalty.logout(), ledger.forget()]);
    setLogin(null);
  }

  if (login === undefined) return <p class="loading">Loading…</p>;
  if (login === null)
    return (
      <main id="main" class="narrow">
        <SignIn onSignedIn={setLogin} />
      </main>
    );
  return <Member login={login} path={path} onSignOut={() => void signOut()} onExpired={() => setLogin(null)} />;
}

const root = document.getElementById('app');
if (root) render(<App />, root);
