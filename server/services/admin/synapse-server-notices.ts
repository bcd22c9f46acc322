/**
 * Server notices (Synapse docs admin_api/server_notices.md and server_notices.md): the admin
 * sends a message to a local user from the system user `@<serverNoticesLocalpart>:<server>`.
 * As Synapse does, each user gets one private room with that user, created on first use,
 * tagged `m.server_notice` for them, where nobody but the system user may speak
 * (users_default -10); a user who left is invited again.
 */
import { parseUserId } from '../../core/ids.ts';
import type { JsonObject } from '../../core/events/types.ts';
import { MatrixError, notFound } from '../../errors.ts';
import type { AdminStore } from '../../storage/admin.ts';
import type { RoomsStore } from '../../storage/rooms.ts';
import type { UsersStore } from '../../storage/users.ts';
import type { RoomsServices } from '../rooms/rooms.ts';
import type { AccountDataService } from '../sync/account-data.ts';

export const SERVER_NOTICE_TAG = 'm.server_notice';
/** Name of the notices room and display name of the system user. */
const SERVER_NOTICES = 'Server Notices';
/** Client transaction ids remembered for idempotent retries (Synapse keeps them in memory too). */
const MAX_TXNS = 1000;

export interface SynapseServerNoticesDeps {
  rooms: RoomsServices;
  store: RoomsStore;
  users: UsersStore;
  accountData: AccountDataService;
  admin: AdminStore;
  serverName: string;
  localpart: () => string;
  now?: () => number;
}

export interface ServerNotice {
  userId: string;
  type: string;
  content: JsonObject;
  stateKey?: string;
}

export class SynapseServerNotices {
  private readonly txns = new Map<string, Promise<string>>();
  private readonly now: () => number;

  constructor(private readonly d: SynapseServerNoticesDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Sends the notice; with `txnKey` a retry returns the first event id. */
  send(notice: ServerNotice, txnKey?: string): Promise<string> {
    if (txnKey === undefined) return this.sendNow(notice);
    let p = this.txns.get(txnKey);
    if (!p) {
      p = this.sendNow(notice);
      // A failed send may be retried with the same transaction id.
      p.catch(() => this.txns.delete(txnKey));
      if (this.txns.size >= MAX_TXNS) this.txns.delete(this.txns.keys().next().value as string);
      this.txns.set(txnKey, p);
    }
    return p;
  }

  private async sendNow(n: ServerNotice): Promise<string> {
    const target = parseUserId(n.userId);
    if (!target || target.serverName !== this.d.serverName) throw new MatrixError(400, 'M_UNKNOWN', 'Server notices can only be sent to local users');
    const user = this.d.users.getUser(n.userId);
    if (!user) throw notFound('User not found');
    if (user.deactivated) throw new MatrixError(400, 'M_UNKNOWN', 'The user is deactivated');
    const system = await this.systemUser();
    const roomId = await this.noticeRoom(system, n.userId);
    const sent = await this.d.rooms.sender.send({ roomId, sender: system, type: n.type, stateKey: n.stateKey, content: n.content });
    return sent.eventId;
  }

  /** The system user exists as an account without a password, so nobody can log in as it. */
  private async systemUser(): Promise<string> {
    const userId = `@${this.d.localpart()}:${this.d.serverName}`;
    if (!this.d.users.getUser(userId)) {
      await this.d.users.createUser({ userId, passwordHash: null, isAdmin: false, userType: null, displayname: SERVER_NOTICES, createdTs: this.now() });
    }
    return userId;
  }

  private async noticeRoom(system: string, userId: string): Promise<string> {
    const known = this.d.admin.serverNoticeRoom(userId);
    if (known !== undefined && this.d.rooms.sender.cache.get(known)?.joined.has(system)) {
      const membership = this.d.store.member(known, userId)?.membership;
      if (membership !== 'join' && membership !== 'invite') await this.d.rooms.membership.invite(system, known, userId);
      return known;
    }
    const { roomId } = await this.d.rooms.creator.createRoom(system, {
      preset: 'private_chat',
      name: SERVER_NOTICES,
      invite: [userId],
      power_level_content_override: { users_default: -10 },
    });
    await this.d.admin.setServerNoticeRoom(userId, roomId);
    await this.d.accountData.setTag(userId, userId, roomId, SERVER_NOTICE_TAG, {});
    return roomId;
  }
}
