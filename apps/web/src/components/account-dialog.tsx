import { type FormEvent, useEffect, useId, useState } from 'react';
import { useChat, useMe } from '../chat-context.tsx';
import { describeError, toFormErrors } from '../lib/errors.ts';
import { formatFull, formatListTime } from '../lib/format.ts';
import { trpc } from '../trpc.ts';
import { FormError, Modal } from './modal.tsx';

/**
 * The signed-in user's account: display name, password, where they are
 * signed in, and deleting the account. Each section is its own form, so a
 * failure in one never clears another.
 */
export function AccountDialog({ onClose }: { onClose(): void }) {
  return (
    <Modal title="Account" onClose={onClose}>
      <div className="account-sections">
        <DisplayNameForm />
        <PasswordForm />
        <SessionsSection />
        <DeleteAccountSection />
      </div>
    </Modal>
  );
}

/** A quiet line read out when it appears: "Saved", "Password changed". */
function Done({ text }: { text: string | null }) {
  return (
    <p className="form-done" role="status">
      {text}
    </p>
  );
}

/** A section form's submit button, and what became of the last submit. */
function SubmitRow({
  busy,
  label,
  busyLabel,
  done,
}: {
  busy: boolean;
  label: string;
  busyLabel: string;
  done: string | null;
}) {
  return (
    <div className="form-row">
      <button type="submit" className="button primary" disabled={busy} aria-busy={busy || undefined}>
        {busy ? busyLabel : label}
      </button>
      <Done text={done} />
    </div>
  );
}

interface TextFieldProps {
  id: string;
  label: string;
  value: string;
  error: string | undefined;
  onChange(value: string): void;
  type?: 'text' | 'password';
  autoComplete: string;
  maxLength?: number;
  /** Focused when the dialog opens. */
  autoFocus?: boolean;
}

/** A labelled input whose error is tied to it (aria-describedby) and announced. */
function TextField({ id, label, value, error, onChange, type = 'text', ...rest }: TextFieldProps) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type={type}
        value={value}
        data-autofocus={rest.autoFocus || undefined}
        autoComplete={rest.autoComplete}
        maxLength={rest.maxLength}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      />
      {error && (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function DisplayNameForm() {
  const me = useMe();
  const utils = trpc.useUtils();
  const rename = trpc.account.rename.useMutation();
  const [name, setName] = useState(me.data?.full_name ?? '');
  const [error, setError] = useState<string | undefined>();
  const [done, setDone] = useState<string | null>(null);
  const ids = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setDone(null);
    try {
      const user = await rename.mutateAsync({ full_name: name });
      utils.auth.me.setData(undefined, user);
      setName(user.full_name ?? '');
      setDone('Display name saved.');
    } catch (cause) {
      const errors = toFormErrors(cause, ['full_name'] as const);
      setError(errors.fields.full_name ?? errors.form ?? undefined);
    }
  };

  return (
    <section aria-labelledby={`${ids}-title`}>
      <h3 id={`${ids}-title`}>Display name</h3>
      <form className="dialog-form" onSubmit={submit} noValidate>
        <TextField
          id={`${ids}-name`}
          label="Name shown to others"
          value={name}
          error={error}
          autoComplete="name"
          maxLength={100}
          autoFocus
          onChange={(value) => {
            setName(value);
            setError(undefined);
          }}
        />
        <SubmitRow busy={rename.isPending} label="Save name" busyLabel="Saving…" done={done} />
      </form>
    </section>
  );
}

type PasswordField = 'current_password' | 'new_password' | 'confirm';

function PasswordForm() {
  const utils = trpc.useUtils();
  const change = trpc.account.changePassword.useMutation();
  const [values, setValues] = useState<Record<PasswordField, string>>({
    current_password: '',
    new_password: '',
    confirm: '',
  });
  const [errors, setErrors] = useState<Partial<Record<PasswordField, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const ids = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    setFormError(null);
    if (values.new_password !== values.confirm) {
      setErrors({ confirm: 'The two new passwords differ' });
      return;
    }
    setErrors({});
    try {
      await change.mutateAsync({
        current_password: values.current_password,
        new_password: values.new_password,
      });
      setValues({ current_password: '', new_password: '', confirm: '' });
      setDone('Password changed. Your other sessions were signed out.');
      void utils.account.sessions.invalidate();
    } catch (cause) {
      const found = toFormErrors(cause, ['current_password', 'new_password'] as const);
      setErrors(found.fields);
      setFormError(found.form);
    }
  };

  const field = (name: PasswordField, label: string, autoComplete: string) => (
    <TextField
      id={`${ids}-${name}`}
      label={label}
      type="password"
      value={values[name]}
      error={errors[name]}
      autoComplete={autoComplete}
      onChange={(value) => {
        setValues({ ...values, [name]: value });
        setErrors({ ...errors, [name]: undefined });
      }}
    />
  );

  return (
    <section aria-labelledby={`${ids}-title`}>
      <h3 id={`${ids}-title`}>Password</h3>
      <form className="dialog-form" onSubmit={submit} noValidate>
        {field('current_password', 'Current password', 'current-password')}
        {field('new_password', 'New password', 'new-password')}
        {field('confirm', 'New password again', 'new-password')}
        <FormError error={formError} />
        <SubmitRow busy={change.isPending} label="Change password" busyLabel="Changing…" done={done} />
      </form>
    </section>
  );
}

function SessionsSection() {
  const { logout } = useChat();
  const sessions = trpc.account.sessions.useQuery();
  const revoke = trpc.account.revokeSession.useMutation();
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const ids = useId();

  const signOut = async (sessionId: string, current: boolean, client: string) => {
    setError(null);
    if (current) {
      logout();
      return;
    }
    try {
      await revoke.mutateAsync({ session_id: sessionId });
      setDone(`Signed out ${client}.`);
    } catch (cause) {
      setError(describeError(cause));
    }
    void sessions.refetch();
  };

  return (
    <section aria-labelledby={`${ids}-title`}>
      <h3 id={`${ids}-title`}>Where you’re signed in</h3>
      {sessions.isPending ? (
        <p className="muted">Loading sessions…</p>
      ) : sessions.isError ? (
        <p className="inline-error" role="alert">
          {describeError(sessions.error)}
        </p>
      ) : (
        <ul className="session-list" aria-label="Sessions">
          {sessions.data.map((session) => (
            <li key={session.id} className="session-item" data-current={session.current || undefined}>
              <span className="session-body">
                <span className="session-client">
                  {session.client}
                  {session.current && <span className="session-badge"> · This device</span>}
                </span>
                <span className="muted session-meta">
                  {session.ip_address ?? 'Unknown address'} · last active{' '}
                  <time dateTime={session.last_used_at} title={formatFull(session.last_used_at)}>
                    {formatListTime(session.last_used_at)}
                  </time>{' '}
                  · signed in{' '}
                  <time dateTime={session.created_at} title={formatFull(session.created_at)}>
                    {formatListTime(session.created_at)}
                  </time>
                </span>
              </span>
              <button
                type="button"
                className="button"
                disabled={revoke.isPending}
                aria-label={`Sign out ${session.client}${session.current ? ' (this device)' : ''}, last active ${formatFull(session.last_used_at)}`}
                onClick={() => void signOut(session.id, session.current, session.client)}
              >
                Sign out
              </button>
            </li>
          ))}
        </ul>
      )}
      <FormError error={error} />
      <Done text={done} />
    </section>
  );
}

function DeleteAccountSection() {
  const { client } = useChat();
  const [asking, setAsking] = useState(false);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const ids = useId();

  // The confirmation's one field takes the focus as it appears.
  useEffect(() => {
    if (asking) document.getElementById(`${ids}-password`)?.focus();
  }, [asking, ids]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      // Signs this client out: the app goes back to the sign-in screen.
      await client.deleteAccount(password);
    } catch (cause) {
      const errors = toFormErrors(cause, ['password'] as const);
      setError(errors.fields.password ?? errors.form ?? undefined);
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby={`${ids}-title`} className="danger-zone">
      <h3 id={`${ids}-title`}>Delete account</h3>
      <p className="muted">
        Your sessions end at once and your username becomes free for others. Your messages stay in their
        conversations, shown as from “Deleted user”.
      </p>
      {asking ? (
        <form className="dialog-form" onSubmit={submit} noValidate>
          <TextField
            id={`${ids}-password`}
            label="Your password, to confirm"
            type="password"
            value={password}
            error={error}
            autoComplete="current-password"
            onChange={(value) => {
              setPassword(value);
              setError(undefined);
            }}
          />
          <div className="form-row">
            <button type="button" className="button" onClick={() => setAsking(false)}>
              Keep my account
            </button>
            <button type="submit" className="button danger" disabled={busy} aria-busy={busy}>
              {busy ? 'Deleting…' : 'Delete my account for good'}
            </button>
          </div>
        </form>
      ) : (
        <button type="button" className="button danger" onClick={() => setAsking(true)}>
          Delete account…
        </button>
      )}
    </section>
  );
}
