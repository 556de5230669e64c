import { hasLoneSurrogate } from './credentials.js';
import { hashPassword, verifyPassword } from './password.js';

/** What a service's store offers for users; every service with accounts has these two. */
export interface UserStore {
  findUserByLogin(login: string): Promise<{ id: number; password_hash: string } | undefined>;
  /** The new user's id, or null when the login is taken (also when two registrations race). */
  createUser(login: string, passwordHash: string): Promise<number | null>;
}

/** Registration and sign-in with argon2id hashes, the same in every service that has users. */
export class PasswordAccounts {
  constructor(private readonly users: UserStore) {}

  /** New user's id, or null when the login is taken. Checks first so a taken login costs no hash. */
  async register(login: string, password: string): Promise<number | null> {
    if (await this.users.findUserByLogin(login)) return null;
    return this.users.createUser(login, await hashPassword(password));
  }

  /**
   * The user's id when the pair matches, else null. A password with a lone surrogate matches
   * nobody (registration refuses them; hashed, it would equal the same text with U+FFFD), and
   * it still costs a hash, as every wrong pair does.
   */
  async authenticate(login: string, password: string): Promise<number | null> {
    const user = await this.users.findUserByLogin(login);
    const ok = (await verifyPassword(user?.password_hash, password)) && !hasLoneSurrogate(password);
    return ok && user ? user.id : null;
  }
}
