import { useId, useState, useSyncExternalStore } from 'react';
import { notificationSettings } from '../lib/browser-notifications.ts';
import type { NotificationState } from '../lib/notifications.ts';
import { BellIcon } from './icons.tsx';
import './notifications.css';

/** What the button does in each state (its name) and what the state is (its tooltip). */
const LABELS: Record<Exclude<NotificationState, 'unsupported'>, { action: string; state: string }> = {
  ask: { action: 'Enable notifications', state: 'Notifications are off' },
  off: { action: 'Enable notifications', state: 'Notifications are off on this device' },
  on: { action: 'Turn off notifications', state: 'Notifications are on for this device' },
  denied: { action: 'Notifications blocked', state: 'Your browser blocks notifications from this site' },
};

/**
 * The notifications switch of the sidebar's footer. The browser is asked
 * for permission only here, on a click, never on load. Once allowed, it
 * turns them on or off for this device; when the browser denied them, it
 * explains where to allow them, since a page cannot ask again.
 */
export function NotificationControl() {
  const state = useSyncExternalStore(notificationSettings.subscribe, notificationSettings.get);
  const [explaining, setExplaining] = useState(false);
  const noteId = useId();
  if (state === 'unsupported') return null;
  const { action, state: description } = LABELS[state];

  const onClick = async () => {
    if (state === 'on') {
      notificationSettings.disable();
      return;
    }
    if (state === 'denied') {
      setExplaining((shown) => !shown);
      return;
    }
    const next = await notificationSettings.enable();
    setExplaining(next === 'denied');
  };

  return (
    <div className="notification-control">
      <button
        type="button"
        className="icon-button"
        aria-label={action}
        title={description}
        data-state={state}
        aria-expanded={state === 'denied' ? explaining : undefined}
        aria-controls={state === 'denied' && explaining ? noteId : undefined}
        onClick={() => void onClick()}
      >
        <BellIcon off={state !== 'on'} />
      </button>
      {state === 'denied' && explaining && (
        <div className="notification-note" id={noteId} role="status">
          <p>
            <strong>Notifications are blocked.</strong> Your browser denied them for this site, and a page
            cannot ask again. To get them, allow notifications in the site settings (the icon at the left of
            the address bar), then reload.
          </p>
          <button type="button" className="button" onClick={() => setExplaining(false)}>
            Got it
          </button>
        </div>
      )}
    </div>
  );
}
