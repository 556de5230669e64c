import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ledger, loyalty } from './api';
import { useMemberData } from './data';
import { money } from './format';
import { BalancePage } from './pages/Balance';
import { NotFound } from './pages/NotFound';
import { Orders } from './pages/Orders';
import { SignIn } from './pages/SignIn';
import { Wallets } from './pages/Wallets';
import { WithdrawPage } from './pages/Withdraw';
import { failure } from './problems';
import { Link, navigate, pageOf, usePath } from './router';
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
  const page = PAGES.find((p) => p.path === pageOf(props.path));
  useEffect(() => {
    document.title = `${page?.label ?? 'Page not found'} · Gophermart`;
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
          <img src="/favicon.svg" alt="" width="24" height="24" />
          Gophermart
        </a>
        <nav aria-label="Main">
          {PAGES.map((p) => (
            <Link key={p.path} href={p.path} class="nav" current={p.path === page?.path}>
              {p.label}
            </Link>
          ))}
        </nav>
        <div class="who">
          <span class="chip" data-testid="header-balance">
            <span class="sr-only">Your balance: </span>
            {data.balance ? money(data.balance.current) : '…'} pts
          </span>
          <span class="login" data-testid="member-login" title={props.login}>
            {props.login}
          </span>
          <button type="button" class="link" onClick={props.onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">
        {data.problem ? (
          <p class="message message-bad" role="alert" data-testid="data-problem">
            {data.problem}
          </p>
        ) : null}
        {page === undefined ? <NotFound signedIn /> : null}
        {page?.path === '/orders' ? <Orders data={data} /> : null}
        {page?.path === '/balance' ? <BalancePage data={data} /> : null}
        {page?.path === '/withdraw' ? <WithdrawPage data={data} /> : null}
        {page?.path === '/wallets' ? <Wallets member={props.login} /> : null}
      </main>
    </>
  );
}

/** How often the app asks again for the session while the service is unavailable. */
const SESSION_RETRY_MS = 3000;

/** `ended`: signed out by the service (the token expired or was refused), not by the member. */
type SessionView = { state: 'checking' } | { state: 'failed'; problem: string } | { state: 'out'; ended?: boolean } | { state: 'in'; login: string };

function App() {
  // 'checking' while the session is being asked: nothing flashes before we know
  const [session, setSession] = useState<SessionView>({ state: 'checking' });
  const path = usePath();
  const page = pageOf(path);
  useFocusOnNavigate(path);

  /** `quiet`: asked again by itself, so the page does not flash "Loading…" each time. */
  async function check(quiet = false): Promise<void> {
    if (!quiet) setSession({ state: 'checking' });
    const r = await loyalty.session();
    if (r.status === 200 && r.data) setSession(r.data.signed_in && r.data.login ? { state: 'in', login: r.data.login } : { state: 'out' });
    else setSession({ state: 'failed', problem: failure(r, 'open your account', { retried: true }) });
  }
  useEffect(() => {
    void check();
  }, []);
  // a service briefly away when the app opened: it opens by itself once the service answers again
  useEffect(() => {
    if (session.state !== 'failed') return;
    document.title = 'Unavailable · Gophermart';
    const timer = setTimeout(() => void check(true), SESSION_RETRY_MS);
    return () => clearTimeout(timer);
  }, [session]);

  // the page a signed-out member asked for, opened once they have signed in
  const wanted = useRef<string | null>(null);
  useEffect(() => {
    if (session.state === 'out' && page !== undefined && page !== '/signin') {
      if (page !== '/') wanted.current = page;
      navigate('/signin', { replace: true });
    }
    if (session.state === 'in' && (page === '/signin' || page === '/')) {
      navigate(wanted.current ?? '/orders', { replace: true });
      wanted.current = null;
    }
    if (session.state === 'out' && page === undefined) document.title = 'Page not found · Gophermart';
  }, [session, page]);

  async function signOut(): Promise<void> {
    await Promise.all([loyalty.logout(), ledger.forget()]);
    setSession({ state: 'out' });
  }

  if (session.state === 'checking') return <p class="loading">Loading…</p>;
  if (session.state === 'failed')
    return (
      <main id="main" class="narrow">
        <h1 tabIndex={-1}>Gophermart</h1>
        <p class="message message-bad" role="alert">
          {session.problem}
        </p>
        <button type="button" class="primary" onClick={() => void check()}>
          Try again
        </button>
      </main>
    );
  if (session.state === 'out')
    return (
      <main id="main" class="narrow">
        <p class="brand brand-solo">
          <img src="/favicon.svg" alt="" width="32" height="32" />
          Gophermart
        </p>
        {page === undefined ? <NotFound signedIn={false} /> : <SignIn ended={session.ended} onSignedIn={(login) => setSession({ state: 'in', login })} />}
      </main>
    );
  // just signed in on /signin (or at /): the effect above moves on to the page; nothing is shown
  // for that one render, or the sign-in path would flash as a page that does not exist
  if (page === '/signin' || page === '/') return <p class="loading">Loading…</p>;
  return <Member login={session.login} path={path} onSignOut={() => void signOut()} onExpired={() => setSession({ state: 'out', ended: true })} />;
}

const root = document.getElementById('app');
if (root) render(<App />, root);
