import { createPneumaticClient, localTokenStorage } from '@pneumatic/client';
import { useSyncExternalStore } from 'react';
import { AuthScreen } from './components/auth-screen.tsx';
import { SignedIn } from './components/signed-in.tsx';

/**
 * The one client of this page, for every login: it keeps the token pair in
 * localStorage (tabs share it and take turns refreshing), and drops its
 * socket whenever the signed-in user changes.
 */
const client = createPneumaticClient({ url: window.location.origin, storage: localTokenStorage() });

function logout(): void {
  // The screen changes at once; revoking the login on the server may finish after.
  client.logout().catch(() => {});
}

export function App() {
  const userId = useSyncExternalStore(client.session.subscribe, client.session.getUserId);
  if (!userId) return <AuthScreen client={client} />;
  // Keyed by user: another login (here or in another tab) starts from clean caches.
  return <SignedIn key={userId} userId={userId} client={client} onLogout={logout} />;
}
