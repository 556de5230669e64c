export const LOGIN_MAX = 256;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;

/** The one sentence both services and the web app use for the password rule. */
export const PASSWORD_RULE = `password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`;

export interface CredentialsBody {
  login?: string;
  /** Accepted as an alias of `login`. */
  username?: string;
  password: string;
}

export type CredentialsCheck = { ok: true; login: string; password: string } | { ok: false; message: string };

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
  if (purpose === 'register') {
    const length = characters(password);
    if (length < PASSWORD_MIN || length > PASSWORD_MAX) return { ok: false, message: PASSWORD_RULE };
  } else if (password === '') return { ok: false, message: 'password is required' };
  return { ok: true, login, password };
}
