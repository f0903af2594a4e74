import type { PneumaticClient } from '@pneumatic/client';
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { type FormErrors, toFormErrors } from '../lib/errors.ts';
import { EyeIcon, LogoMark } from './icons.tsx';
import { FormError } from './modal.tsx';
import { ThemeSwitch } from './theme-switch.tsx';

type Mode = 'login' | 'signup';
type Field = 'username' | 'password' | 'full_name';

const FIELDS: readonly Field[] = ['username', 'password', 'full_name'];
const NO_ERRORS: FormErrors<Field> = { fields: {}, form: null };

interface AuthScreenProps {
  /** Logging in signs its session in, which takes the app to the chat. */
  client: PneumaticClient;
}

/** Log in, or create an account and log straight in: one page, two modes. */
export function AuthScreen({ client }: AuthScreenProps) {
  const [mode, setMode] = useState<Mode>('login');
  const [values, setValues] = useState({ username: '', password: '', full_name: '' });
  const [errors, setErrors] = useState<FormErrors<Field>>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const [showPassword, setShowPassword] = useState(false);
  const usernameRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const formId = useId();

  useEffect(() => {
    usernameRef.current?.focus();
  }, []);

  const switchMode = (next: Mode) => {
    setMode(next);
    setErrors(NO_ERRORS);
    usernameRef.current?.focus();
  };

  const update = (field: Field) => (event: { target: { value: string } }) => {
    setValues((v) => ({ ...v, [field]: event.target.value }));
    if (errors.fields[field]) setErrors((e) => ({ ...e, fields: { ...e.fields, [field]: undefined } }));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const missing: FormErrors<Field>['fields'] = {};
    if (!values.username.trim()) missing.username = 'Enter your username';
    if (!values.password) missing.password = 'Enter your password';
    if (missing.username || missing.password) {
      setErrors({ fields: missing, form: null });
      (missing.username ? usernameRef : passwordRef).current?.focus();
      return;
    }
    setBusy(true);
    setErrors(NO_ERRORS);
    const username = values.username.trim();
    try {
      if (mode === 'signup') {
        await client.signup({
          username,
          password: values.password,
          full_name: values.full_name.trim() || null,
        });
      }
      await client.login({ username, password: values.password });
    } catch (error) {
      const next = toFormErrors(error, FIELDS, (message) =>
        /username/i.test(message) && mode === 'signup' ? 'username' : null,
      );
      setErrors(next);
      setBusy(false);
      if (next.fields.username) usernameRef.current?.focus();
      else if (next.fields.password) passwordRef.current?.focus();
    }
  };

  const isSignup = mode === 'signup';
  const errorId = (field: Field) => `${formId}-${field}-error`;
  const describedBy = (field: Field, hint?: string) =>
    [errors.fields[field] ? errorId(field) : null, hint ?? null].filter(Boolean).join(' ') || undefined;

  return (
    <main className="auth">
      <div className="auth-card">
        <div className="auth-brand">
          <LogoMark width={44} height={44} />
          <h1>Pneumatic</h1>
        </div>
        <p className="auth-tagline">
          {isSignup
            ? 'Create your account and start talking in seconds.'
            : 'Welcome back. Your conversations are waiting.'}
        </p>

        <div className="segmented" role="tablist" aria-label="Log in or sign up">
          <button
            type="button"
            role="tab"
            aria-selected={!isSignup}
            aria-controls={formId}
            onClick={() => switchMode('login')}
          >
            Log in
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={isSignup}
            aria-controls={formId}
            onClick={() => switchMode('signup')}
          >
            Sign up
          </button>
        </div>

        <form
          id={formId}
          role="tabpanel"
          className="auth-form"
          noValidate
          onSubmit={submit}
          aria-label={isSignup ? 'Sign up' : 'Log in'}
        >
          <div className="field">
            <label htmlFor={`${formId}-username`}>Username</label>
            <input
              ref={usernameRef}
              id={`${formId}-username`}
              name="username"
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              value={values.username}
              onChange={update('username')}
              aria-invalid={errors.fields.username ? true : undefined}
              aria-describedby={describedBy('username', isSignup ? `${formId}-username-hint` : undefined)}
            />
            {isSignup && !errors.fields.username && (
              <p id={`${formId}-username-hint`} className="field-hint">
                3–32 letters, digits, _ . or -
              </p>
            )}
            {errors.fields.username && (
              <p id={errorId('username')} className="field-error">
                {errors.fields.username}
              </p>
            )}
          </div>

          {isSignup && (
            <div className="field">
              <label htmlFor={`${formId}-full-name`}>
                Full name <span className="optional">(optional)</span>
              </label>
              <input
                id={`${formId}-full-name`}
                name="full_name"
                autoComplete="name"
                value={values.full_name}
                onChange={update('full_name')}
                aria-invalid={errors.fields.full_name ? true : undefined}
                aria-describedby={describedBy('full_name')}
              />
              {errors.fields.full_name && (
                <p id={errorId('full_name')} className="field-error">
                  {errors.fields.full_name}
                </p>
              )}
            </div>
          )}

          <div className="field">
            <label htmlFor={`${formId}-password`}>Password</label>
            <div className="password-input">
              <input
                ref={passwordRef}
                id={`${formId}-password`}
                name="password"
                type={showPassword ? 'text' : 'password'}
                autoComplete={isSignup ? 'new-password' : 'current-password'}
                value={values.password}
                onChange={update('password')}
                aria-invalid={errors.fields.password ? true : undefined}
                aria-describedby={describedBy('password')}
              />
              <button
                type="button"
                className="icon-button"
                aria-label={showPassword ? 'Hide password' : 'Show password'}
                aria-pressed={showPassword}
                onClick={() => setShowPassword((s) => !s)}
              >
                <EyeIcon off={showPassword} />
              </button>
            </div>
            {errors.fields.password && (
              <p id={errorId('password')} className="field-error">
                {errors.fields.password}
              </p>
            )}
          </div>

          <FormError error={errors.form ?? null} />

          <button type="submit" className="button primary wide" disabled={busy} aria-busy={busy}>
            {busy ? (isSignup ? 'Creating account…' : 'Logging in…') : isSignup ? 'Create account' : 'Log in'}
          </button>
        </form>

        <p className="auth-switch">
          {isSignup ? 'Already have an account?' : 'New to Pneumatic?'}{' '}
          <button
            type="button"
            className="link-button"
            onClick={() => switchMode(isSignup ? 'login' : 'signup')}
          >
            {isSignup ? 'Log in' : 'Create an account'}
          </button>
        </p>
        <div className="auth-theme">
          <ThemeSwitch labelled />
        </div>
      </div>
    </main>
  );
}
