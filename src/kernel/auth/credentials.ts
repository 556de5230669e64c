export const LOGIN_MAX = 256;
export const PASSWORD_MAX = 1024;

export interface CredentialsBody {
  login?: string;
  /** Accepted as an alias of `login`. */
  username?: string;
  password: string;
}

export type CredentialsCheck = { ok: true; login: string; password: string } | { ok: false; message: string };

/**
 * The one rule for logins and passwords of every service: login 1–256 characters, not only white
 * space, no control characters; password 1–1024 characters.
 */
export function checkCredentials(body: CredentialsBody): CredentialsCheck {
  const login = body.login ?? body.username;
  const password = body.password;
  if (login === undefined || login.trim() === '') return { ok: false, message: 'login is required' };
  if (password === '') return { ok: false, message: 'password is required' };
  if (login.length > LOGIN_MAX) return { ok: false, message: `login must be at most ${LOGIN_MAX} characters` };
  if (password.length > PASSWORD_MAX) return { ok: false, message: `password must be at most ${PASSWORD_MAX} characters` };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  if (/[\u0000-\u001f\u007f]/.test(login)) return { ok: false, message: 'login must not contain control characters' };
  return { ok: true, login, password };
}
