/**
 * The rooms services built together from one RoomsDeps (homeserver.ts calls createRoomsServices
 * once). They share one EventSender, so the room lock and the room cache are shared too.
 */
import type { RoomsDeps } from './deps.ts';
import { AliasService } from './aliases.ts';
import { ClientEventFormatter } from './client-event.ts';
import { RoomCreator } from './create.ts';
import { DirectoryService } from './directory.ts';
import { MembershipService } from './membership.ts';
import type { RoomsReader } from './reader.ts';
import { RelationsService } from './relations.ts';
import { SqlRoomsReader } from './rooms-reader.ts';
import { EventSender } from './send-event.ts';
import { StateService } from './state.ts';
import { TimelineService } from './timeline.ts';
import { UpgradeService } from './upgrade.ts';

export interface RoomsServices {
  sender: EventSender;
  formatter: ClientEventFormatter;
  creator: RoomCreator;
  membership: MembershipService;
  state: StateService;
  timeline: TimelineService;
  relations: RelationsService;
  aliases: AliasService;
  directory: DirectoryService;
  upgrade: UpgradeService;
  reader: RoomsReader;
}

export function createRoomsServices(deps: RoomsDeps): RoomsServices {
  const sender = new EventSender(deps);
  const formatter = new ClientEventFormatter(deps.store, sender.cache, deps.now ?? Date.now);
  const aliases = new AliasService(deps, sender);
  const membership = new MembershipService(deps, sender);
  membership.subscribe(deps.bus);
  return {
    sender,
    formatter,
    creator: new RoomCreator(deps, sender, membership),
    membership,
    state: new StateService(deps, sender, formatter),
    timeline: new TimelineService(deps, sender, formatter),
    relations: new RelationsService(deps, sender, formatter),
    aliases,
    directory: new DirectoryService(deps, sender, aliases),
    upgrade: new UpgradeService(deps, sender),
    reader: new SqlRoomsReader(deps, sender, formatter),
  };
}
