import { useEffect, useState } from 'react';
import { useConnectionStatus } from '../chat-context.tsx';

/** A short outage (a token rotation, a server restart) passes unannounced. */
const GRACE_MS = 1500;
/** How long "Back online" stays. */
const RECOVERED_MS = 2500;

type Phase = 'hidden' | 'down' | 'recovered';

/** Says so when live updates are not flowing, and when they are back. */
export function ConnectionBanner() {
  const status = useConnectionStatus();
  const [phase, setPhase] = useState<Phase>('hidden');

  useEffect(() => {
    if (status !== 'online') {
      const timer = setTimeout(() => setPhase('down'), GRACE_MS);
      return () => clearTimeout(timer);
    }
    setPhase((p) => (p === 'hidden' ? 'hidden' : 'recovered'));
    const timer = setTimeout(() => setPhase('hidden'), RECOVERED_MS);
    return () => clearTimeout(timer);
  }, [status]);

  const text =
    phase === 'recovered'
      ? 'Back online'
      : phase === 'down'
        ? status === 'closed'
          ? 'Offline. Live updates are paused.'
          : status === 'connecting'
            ? 'Connecting…'
            : 'Connection lost. Reconnecting…'
        : '';

  return (
    <div className="connection-banner" role="status" aria-live="polite" data-phase={phase}>
      {text && <span className="connection-dot" aria-hidden="true" />}
      {text}
    </div>
  );
}
