/**
 * The account operations the admin API needs (create the first admin, sign an admin in to the
 * GUI, count users), built on the accounts services of issue 3. homeserver.ts wires it.
 */
import { MatrixError, forbidden } from '../../errors.ts';
import type { UserServices } from '../users/user-services.ts';
import { MAX_PASSWORD_LENGTH, normaliseLocalpart } from '../users/accounts.ts';

export interface AdminSession {
  user_id: string;
  access_token: string;
  device_id: string;
}

const GUI_DEVICE_NAME = 'Hearth admin pages';
/** One device for the desktop window's sessions, so re-minting replaces a token instead of adding devices. */
const DESKTOP_DEVICE_ID = 'HEARTHDESKTOP';
const DESKTOP_DEVICE_NAME = 'Hearth desktop app';
/** Admins looked at when choosing the first one; a family server has a handful. */
const MAX_ADMINS_SCANNED = 1000;

export interface MintedAdminSession {
  userId: string;
  accessToken: string;
  deviceId: string;
  expiresTs: number;
}

export function adminAccounts(users: UserServices, serverName: string, clock: () => number = Date.now) {
  return {
    tokens: users.tokens,

    countUsers(): number {
      return users.store.listUsers({ from: 0, limit: 1 }).total;
    },

    async createAdmin(username: string, password: string): Promise<AdminSession> {
      const localpart = normaliseLocalpart(username, serverName);
      if (password.length > MAX_PASSWORD_LENGTH) throw new MatrixError(400, 'M_PASSWORD_TOO_LONG', 'Password too long');
      const userId = `@${localpart}:${serverName}`;
      const prepared = users.tokens.prepare({ refreshToken: false, initialDisplayName: GUI_DEVICE_NAME });
      const r = await users.store.createUser({
        userId,
        passwordHash: await users.passwords.hash(password),
        isAdmin: true,
        userType: null,
        displayname: localpart,
        createdTs: clock(),
        session: prepared.session,
      });
      if (!r.ok) throw new MatrixError(400, 'M_USER_IN_USE', 'User ID already taken.');
      return { user_id: userId, access_token: prepared.tokens.access_token, device_id: prepared.tokens.device_id };
    },

    async loginAdmin(username: string, password: string): Promise<AdminSession> {
      const user = await users.accounts.checkPassword(username, password);
      if (!user.isAdmin) throw forbidden('This account is not a server admin');
      const t = await users.tokens.issue(user.userId, { refreshToken: false, initialDisplayName: GUI_DEVICE_NAME });
      return { user_id: user.userId, access_token: t.access_token, device_id: t.device_id };
    },

    /**
     * A short-lived access token on the first (oldest active) admin account, for the desktop
     * window (main/admin-session.ts): the person at the computer running Hearth is not asked for
     * the password. Null before setup. The token simply expires; the shell mints a new one.
     */
    async mintDesktopSession(ttlMs: number): Promise<MintedAdminSession | null> {
      const admins = users.store.listUsers({ from: 0, limit: MAX_ADMINS_SCANNED, admins: true, deactivated: false }).users;
      const first = admins.reduce<(typeof admins)[number] | undefined>((a, u) => (!a || u.createdTs < a.createdTs ? u : a), undefined);
      if (!first) return null;
      const now = clock();
      const prepared = users.tokens.prepare({ refreshToken: false, deviceId: DESKTOP_DEVICE_ID, initialDisplayName: DESKTOP_DEVICE_NAME });
      prepared.session.expiresTs = now + ttlMs;
      // Reusing the device revokes its previous token in the same write; drop it from the cache too.
      await users.store.createSession(first.userId, prepared.session, now);
      users.tokens.invalidateDevices(first.userId, [DESKTOP_DEVICE_ID]);
      return { userId: first.userId, accessToken: prepared.tokens.access_token, deviceId: DESKTOP_DEVICE_ID, expiresTs: now + ttlMs };
    },

    async logout(userId: string, deviceId: string): Promise<void> {
      await users.accounts.logout(userId, deviceId);
    },
  };
}
