/**
 * Registration tokens behind Synapse's admin API (Synapse docs admin_api/registration_tokens.md):
 * list (optionally only valid or only invalid ones), read, create with a chosen or generated
 * token, update uses and expiry, delete. /register consumes them (services/users/registration.ts).
 */
import { randomInt } from 'node:crypto';
import { MatrixError, notFound } from '../../errors.ts';
import { registrationTokenValid, type RegistrationTokenRecord, type UsersStore } from '../../storage/users.ts';

/** The record the admin API shows (the API never imports storage). */
export type { RegistrationTokenRecord } from '../../storage/users.ts';

/** Synapse's token alphabet; a token is 1 to 64 of these. */
const TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-';
const TOKEN_GRAMMAR = /^[A-Za-z0-9._~-]{1,64}$/;

export interface NewRegistrationToken {
  token?: string;
  usesAllowed: number | null;
  expiryTime: number | null;
  /** Length of a generated token (when `token` is absent). */
  length: number;
}

export class SynapseRegistrationTokensAdmin {
  constructor(
    private readonly store: UsersStore,
    private readonly now: () => number = Date.now,
  ) {}

  list(valid: boolean | undefined): RegistrationTokenRecord[] {
    const all = this.store.listRegistrationTokens();
    if (valid === undefined) return all;
    const now = this.now();
    return all.filter((t) => registrationTokenValid(t, now) === valid);
  }

  get(token: string): RegistrationTokenRecord {
    const t = this.store.getRegistrationToken(token);
    if (!t) throw notFound(`No such registration token: ${token}`);
    return t;
  }

  async create(req: NewRegistrationToken): Promise<RegistrationTokenRecord> {
    this.checkExpiry(req.expiryTime);
    if (req.token !== undefined) {
      if (!TOKEN_GRAMMAR.test(req.token)) throw new MatrixError(400, 'M_INVALID_PARAM', 'token must consist only of characters matched by the regex [A-Za-z0-9._~-] and be at most 64 characters');
      if (!(await this.store.createRegistrationToken({ token: req.token, usesAllowed: req.usesAllowed, expiryTime: req.expiryTime }))) {
        throw new MatrixError(400, 'M_INVALID_PARAM', `Token already exists: ${req.token}`);
      }
      return this.get(req.token);
    }
    // A clash of generated tokens is unlikely but possible with short lengths: try a few.
    for (let attempt = 0; attempt < 5; attempt++) {
      let token = '';
      for (let i = 0; i < req.length; i++) token += TOKEN_CHARS[randomInt(TOKEN_CHARS.length)];
      if (await this.store.createRegistrationToken({ token, usesAllowed: req.usesAllowed, expiryTime: req.expiryTime })) return this.get(token);
    }
    throw new MatrixError(500, 'M_UNKNOWN', 'Unable to generate a unique registration token');
  }

  async update(token: string, fields: { usesAllowed?: number | null; expiryTime?: number | null }): Promise<RegistrationTokenRecord> {
    if (fields.expiryTime !== undefined) this.checkExpiry(fields.expiryTime);
    const t = await this.store.updateRegistrationToken(token, fields);
    if (!t) throw notFound(`No such registration token: ${token}`);
    return t;
  }

  async delete(token: string): Promise<void> {
    if (!(await this.store.deleteRegistrationToken(token))) throw notFound(`No such registration token: ${token}`);
  }

  private checkExpiry(expiryTime: number | null): void {
    if (expiryTime !== null && expiryTime < this.now()) throw new MatrixError(400, 'M_INVALID_PARAM', 'expiry_time must not be in the past');
  }
}
