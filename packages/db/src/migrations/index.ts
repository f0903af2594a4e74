import type { Migration } from 'kysely';
import * as initial from './2026-11-27-0001-initial.ts';
import * as clusterIdentity from './2026-11-27-0002-cluster-identity.ts';
import * as chatFeatures from './2026-11-27-0003-chat-features.ts';
import * as deferredSearchIndex from './2026-11-28-0004-deferred-search-index.ts';
import * as oneNamePerEventKind from './2026-12-05-0005-one-name-per-event-kind.ts';
import * as mutePerMember from './2026-12-06-0006-mute-per-member.ts';
import * as accounts from './2026-12-06-0007-accounts.ts';
import * as fileAttachments from './2026-12-06-0008-file-attachments.ts';
import * as groupRolesAndDisabledUsers from './2026-12-06-0009-group-roles-and-disabled-users.ts';
import * as repliesReactionsMentions from './2026-12-06-0010-replies-reactions-mentions.ts';
import * as replayBySeq from './2026-12-06-0011-replay-by-seq.ts';
import * as messageKeyOrder from './2026-12-07-0012-message-key-order.ts';

/** Every migration, by name; names sort in the order they run. Never edit a landed one. */
export const migrations: Record<string, Migration> = {
  '2026-11-27-0001-initial': initial,
  '2026-11-27-0002-cluster-identity': clusterIdentity,
  '2026-11-27-0003-chat-features': chatFeatures,
  '2026-11-28-0004-deferred-search-index': deferredSearchIndex,
  '2026-12-05-0005-one-name-per-event-kind': oneNamePerEventKind,
  '2026-12-06-0006-mute-per-member': mutePerMember,
  '2026-12-06-0007-accounts': accounts,
  '2026-12-06-0008-file-attachments': fileAttachments,
  '2026-12-06-0009-group-roles-and-disabled-users': groupRolesAndDisabledUsers,
  '2026-12-06-0010-replies-reactions-mentions': repliesReactionsMentions,
  '2026-12-06-0011-replay-by-seq': replayBySeq,
  '2026-12-07-0012-message-key-order': messageKeyOrder,
};
