import { useSyncExternalStore } from 'react';
import { AuthScreen } from './components/auth-screen.tsx';
import { SignedIn } from './components/signed-in.tsx';
import { isUnauthorized } from './lib/errors.ts';
import { localTokenStorage, Session } from './lib/session.ts';
import { createPublicClient, endpointsFor } from './lib/trpc.ts';

const endpoints = endpointsFor(window.location);
const publicClient = createPublicClient(endpoints);
const session = new Session({
  storage: localTokenStorage(),
  refresh: (refreshToken) => publicClient.auth.refresh.mutate({ refresh_token: refreshToken }),
  isRejected: isUnauthorized,
});

function logout(): void {
  const refreshToken = session.tokens?.refresh_token;
  session.signOut();
  // The screen changes at once; revoking the login on the server may finish after.
  if (refreshToken) publicClient.auth.logout.mutate({ refresh_token: refreshToken }).catch(() => {});
}

export function App() {
  const userId = useSyncExternalStore(session.subscribe, session.getUserId);
  if (!userId) return <AuthScreen client={publicClient} onSignedIn={(pair) => session.signIn(pair)} />;
  // Keyed by user: another login (here or in another tab) starts from clean caches.
  return <SignedIn key={userId} userId={userId} session={session} endpoints={endpoints} onLogout={logout} />;
}
