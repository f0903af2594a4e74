import { type Cache, knownPeople } from './cache.ts';
import { conversationName, displayName } from './format.ts';
import {
  type NotificationState,
  notificationContent,
  notificationState,
  shouldNotify,
} from './notifications.ts';
import { conversationHash, conversationIdFromHash } from './route.ts';
import type { Store } from './store.ts';
import type { Message } from './types.ts';

/** localStorage: `off` when notifications were turned off on this device (they are on once allowed). */
const DEVICE_CHOICE_KEY = 'pneumatic.notifications';

function notificationApi(): typeof Notification | undefined {
  return typeof window !== 'undefined' && 'Notification' in window ? window.Notification : undefined;
}

function enabledOnDevice(): boolean {
  try {
    return localStorage.getItem(DEVICE_CHOICE_KEY) !== 'off';
  } catch {
    return true;
  }
}

function currentState(): NotificationState {
  return notificationState(notificationApi()?.permission, enabledOnDevice());
}

/**
 * Where notifications stand on this device, for the control and for the
 * decision to show one. The browser's permission can change behind the
 * page's back (site settings), so it is read again whenever the page comes
 * back into view; the device's choice follows other tabs through `storage`.
 */
class NotificationSettings implements Store<NotificationState> {
  #state: NotificationState = currentState();
  readonly #listeners = new Set<() => void>();
  readonly #refresh = () => this.refresh();

  readonly get = (): NotificationState => this.#state;

  readonly subscribe = (listener: () => void): (() => void) => {
    if (this.#listeners.size === 0) {
      window.addEventListener('focus', this.#refresh);
      window.addEventListener('storage', this.#refresh);
      document.addEventListener('visibilitychange', this.#refresh);
      this.refresh();
    }
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size > 0) return;
      window.removeEventListener('focus', this.#refresh);
      window.removeEventListener('storage', this.#refresh);
      document.removeEventListener('visibilitychange', this.#refresh);
    };
  };

  refresh(): NotificationState {
    const state = currentState();
    if (state !== this.#state) {
      this.#state = state;
      for (const listener of this.#listeners) listener();
    }
    return state;
  }

  /**
   * Turns notifications on for this device, asking the browser first if it
   * was never asked. Call it from a click only: browsers ignore (or hold
   * against the site) a request nobody asked for.
   */
  async enable(): Promise<NotificationState> {
    const api = notificationApi();
    if (!api) return this.refresh();
    try {
      localStorage.removeItem(DEVICE_CHOICE_KEY);
    } catch {
      // Storage off: the choice lasts as long as the permission.
    }
    if (api.permission === 'default') await api.requestPermission();
    return this.refresh();
  }

  /** Turns them off on this device; the browser's permission stays as it is (a page cannot take it back). */
  disable(): NotificationState {
    try {
      localStorage.setItem(DEVICE_CHOICE_KEY, 'off');
    } catch {
      // Nowhere to keep it: nothing changes.
    }
    return this.refresh();
  }
}

export const notificationSettings = new NotificationSettings();

/** The page is on screen and has the focus, so the open conversation is being looked at. */
function pageInView(): boolean {
  return document.visibilityState === 'visible' && document.hasFocus();
}

/** Shows a notification; a click brings the window forward with the conversation open. */
function show(content: ReturnType<typeof notificationContent>, conversationId: string): void {
  const api = notificationApi();
  if (!api) return;
  let notification: Notification;
  try {
    notification = new api(content.title, { body: content.body, tag: content.tag });
  } catch {
    // Some browsers (Chrome on Android) only show them from a service worker: none then.
    return;
  }
  notification.onclick = () => {
    window.focus();
    window.location.hash = conversationHash(conversationId);
    notification.close();
  };
}

/**
 * A message arrived on the live stream: shows a system notification if it
 * deserves one (see shouldNotify), with the sender's name from the people
 * list and my own mute and read state from the conversation list.
 */
export function notifyOfMessage(cache: Cache, message: Message, myId: string): void {
  const list = cache.utils.conversations.list.getData();
  const conversation = list?.find((c) => c.id === message.conversation_id);
  const notify = shouldNotify(message, {
    myId,
    state: notificationSettings.refresh(),
    conversation,
    openConversationId: conversationIdFromHash(window.location.hash),
    pageInView: pageInView(),
  });
  if (!notify) return;
  const users = knownPeople(cache);
  const groupName = conversation?.kind === 'group' ? conversationName(conversation, myId, users) : null;
  show(
    notificationContent(message, displayName(users.get(message.sender_id)), groupName),
    message.conversation_id,
  );
}
