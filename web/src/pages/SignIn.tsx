import { useEffect, useState } from 'preact/hooks';
import { ledger, loyalty } from '../api';
import { Field, Message, type Notice } from '../components/ui';
import { PASSWORD_MAX, PASSWORD_MIN, PASSWORD_RULE, newPasswordFits } from '../password';
import { failure } from '../problems';

/**
 * Best effort: the wallet ledger keeps its own accounts; signing in there with the same pair
 * saves a second form. Failure is fine — the Wallets page offers to connect by hand.
 */
async function connectLedger(mode: 'signin' | 'signup', login: string, password: string): Promise<void> {
  await ledger.forget();
  const first = mode === 'signup' ? await ledger.register(login, password) : await ledger.login(login, password);
  if (mode === 'signup' && first.status === 409) await ledger.login(login, password);
  // a member whose loyalty account was made elsewhere (the API, another app) has no ledger one yet
  if (mode === 'signin' && first.status === 401) await ledger.register(login, password);
}

/**
 * How long signing in waits for that best-effort ledger sign-in before going on without it: a
 * ledger that hangs (rather than failing) would otherwise hold "Please wait…" for as long as the
 * loyalty service's proxy waits for it (10 s). The ledger sign-in goes on in the background; if
 * it is not done when the Wallets page opens, that page offers to connect by hand.
 */
export const LEDGER_PATIENCE_MS = 3000;

/**
 * How long the throttle asks to wait: "a few minutes" was read as two or three, and every attempt
 * before the window ends is refused again.
 */
export function waitInWords(seconds: number | undefined): string {
  if (seconds === undefined) return 'a few minutes';
  const minutes = Math.ceil(seconds / 60);
  return minutes <= 1 ? 'a minute' : `${minutes} minutes`;
}

/** Said when the service signed the member out, so the sign-in page is not a silent surprise. */
export const SESSION_ENDED = 'Your session has ended, so you were signed out. Sign in again to carry on.';

export function SignIn(props: { onSignedIn: (login: string) => void; ended?: boolean | undefined }) {
  const [mode, setMode] = useState<'signin' | 'signup'>('signin');
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(props.ended ? { tone: 'info', text: SESSION_ENDED } : null);

  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    // spaces around a login are never meant: kept, they would make an account that the name it
    // shows does not sign in to
    const name = login.trim();
    if (name === '' || password === '') {
      setNotice({ tone: 'bad', text: 'Enter both a login and a password.' });
      return;
    }
    if (mode === 'signup' && !newPasswordFits(password)) {
      setNotice({ tone: 'bad', text: `Choose a password of ${PASSWORD_RULE}` });
      return;
    }
    setBusy(true);
    setNotice(null);
    const r = mode === 'signup' ? await loyalty.register(name, password) : await loyalty.login(name, password);
    if (r.status === 200 && r.data) {
      await Promise.race([connectLedger(mode, name, password).catch(() => undefined), new Promise<void>((resolve) => setTimeout(resolve, LEDGER_PATIENCE_MS))]);
      setBusy(false);
      props.onSignedIn(r.data.login);
      return;
    }
    setBusy(false);
    if (r.status === 409) setNotice({ tone: 'bad', text: `The login “${name}” is already taken. Choose another one, or sign in if it is yours.` });
    else if (r.status === 401) setNotice({ tone: 'bad', text: 'Wrong login or password.' });
    else if (r.status === 429) setNotice({ tone: 'bad', text: `Too many failed sign-ins from here. Wait ${waitInWords(r.retryAfter)}, then try again.` });
    else if (r.status === 400) setNotice({ tone: 'bad', text: `Check the form: ${r.error ?? 'bad request'}.` });
    else setNotice({ tone: 'bad', text: failure(r, signup ? 'create your account' : 'sign you in') });
  }

  const signup = mode === 'signup';
  useEffect(() => {
    document.title = `${signup ? 'Create account' : 'Sign in'} · Gophermart`;
  }, [signup]);
  return (
    <div class="signin">
      <h1 tabIndex={-1}>{signup ? 'Create your account' : 'Sign in'}</h1>
      <p class="muted">Collect points for your orders and spend them on new ones.</p>
      {/* biome-ignore lint/a11y/useSemanticElements: a pair of toggle buttons, not a form section */}
      <div class="tabs" role="group" aria-label="Account">
        <button
          type="button"
          class={signup ? 'tab' : 'tab tab-on'}
          aria-pressed={!signup}
          onClick={() => {
            setMode('signin');
            setNotice(null);
          }}
        >
          Sign in
        </button>
        <button
          type="button"
          class={signup ? 'tab tab-on' : 'tab'}
          aria-pressed={signup}
          onClick={() => {
            setMode('signup');
            setNotice(null);
          }}
        >
          Create account
        </button>
      </div>
      <form class="card" onSubmit={submit} aria-label={signup ? 'Create account' : 'Sign in'}>
        <Field
          id="login"
          label="Login"
          autocomplete="username"
          value={login}
          onInput={(e) => {
            setLogin(e.currentTarget.value);
            setNotice(null);
          }}
          required
          maxLength={256}
        />
        <Field
          id="password"
          label="Password"
          type="password"
          autocomplete={signup ? 'new-password' : 'current-password'}
          value={password}
          onInput={(e) => {
            setPassword(e.currentTarget.value);
            setNotice(null);
          }}
          required
          minLength={signup ? PASSWORD_MIN : undefined}
          maxLength={PASSWORD_MAX}
          hint={signup ? PASSWORD_RULE : undefined}
        />
        <button class="primary" type="submit" disabled={busy}>
          {busy ? 'Please wait…' : signup ? 'Create account' : 'Sign in'}
        </button>
        <Message notice={notice} testId="signin-message" />
      </form>
    </div>
  );
}
