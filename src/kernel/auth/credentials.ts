export const LOGIN_MAX = 256;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;

/** The one sentence both services and the web app use for the password rule. */
export const PASSWORD_RULE = `password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`;

const LONE_SURROGATE_RULE = (field: 'login' | 'password'): string => `${field} must not contain a lone surrogate (half of a UTF-16 pair)`;

export interface CredentialsBody {
  login?: string;
  /** Accepted as an alias of `login`. */
  username?: string;
  password: string;
}

export type CredentialsCheck = { ok: true; login: string; password: string } | { ok: false; message: string };

/**
 * Half of a UTF-16 surrogate pair on its own: JSON can carry it (`"\ud800"`), but it is no
 * character, and it reaches PostgreSQL and the password hash as U+FFFD — so two different
 * logins or passwords would become one.
 */
const LONE_SURROGATE = /\p{Surrogate}/u;

export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** Characters as a person counts them: code points, so an emoji is one, not two. */
function characters(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * The one rule for logins and passwords of every service: login 1–256 characters, not only white
 * space, no control characters. A new password must be 8–1024 characters. At sign-in only an
 * empty password is bad format: any other that does not match is a wrong pair (401, a failed
 * login), whatever its length, so a rule change never turns old guesses into format errors.
 */
export function checkCredentials(body: CredentialsBody, purpose: 'register' | 'login'): CredentialsCheck {
  const login = body.login ?? body.username;
  const password = body.password;
  if (login === undefined || login.trim() === '') return { ok: false, message: 'login is required' };
  if (login.length > LOGIN_MAX) return { ok: false, message: `login must be at most ${LOGIN_MAX} characters` };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  if (/[\u0000-\u001f\u007f]/.test(login)) return { ok: false, message: 'login must not contain control characters' };
  if (hasLoneSurrogate(login)) return { ok: false, message: LONE_SURROGATE_RULE('login') };
  if (purpose === 'register') {
    const length = characters(password);
    if (length < PASSWORD_MIN || length > PASSWORD_MAX) return { ok: false, message: PASSWORD_RULE };
    if (hasLoneSurrogate(password)) return { ok: false, message: LONE_SURROGATE_RULE('password') };
  } else if (password === '') return { ok: false, message: 'password is required' };
  return { ok: true, login, password };
}
