/**
 * Wiring of simplified sliding sync (MSC4186, the sync Element X needs), part of the composition
 * root: the service over the core's RoomsReader, Notifier and the same sync sources /v3/sync
 * reads, and its route. Connections live in memory and are forgotten at shutdown.
 */
import type { WiringPart } from './wiring.ts';
import { createSlidingSync } from './services/sync/sliding-sync.ts';
import * as slidingSyncApi from './api/client/sliding-sync.ts';

export const slidingSyncPart: WiringPart = (ctx) => {
  const slidingSync = createSlidingSync({
    rooms: ctx.rooms.reader,
    notifier: ctx.notifier,
    presence: ctx.presence,
    roomsWithEvents: (since, upTo) => ctx.syncData.roomsWithEventsBetween(since, upTo),
    accountDataOf: (userId, roomId, type) => ctx.syncData.getAccountData(userId, roomId, type),
    sources: {
      accountData: ctx.accountData,
      receipts: ctx.receipts,
      typing: ctx.typing,
      presence: ctx.presence,
      toDevice: ctx.toDevice,
      deviceLists: ctx.deviceKeys,
      unreadCounts: ctx.pushCounts,
    },
  });
  return {
    mount(r) {
      slidingSyncApi.register(r, { auth: ctx.auth, slidingSync });
    },
    async close() {
      slidingSync.close();
    },
  };
};
