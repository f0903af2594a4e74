import { type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { describeError } from '../lib/errors.ts';
import { CloseIcon } from './icons.tsx';

interface ModalProps {
  title: string;
  /** Escape, the close button, or the caller's own Cancel. */
  onClose(): void;
  children: ReactNode;
  /** Alert dialogs (confirmations) get `role="alertdialog"`. */
  alert?: boolean;
}

/**
 * A modal `<dialog>` that is open while it is rendered: mount it to open,
 * unmount it to close, so each opening starts from fresh state.
 */
export function Modal({ title, onClose, children, alert = false }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog || dialog.open) return;
    dialog.showModal();
    // Start where the work is (a field, or Cancel when asking), not on the close button.
    dialog.querySelector<HTMLElement>('[data-autofocus]')?.focus();
  }, []);

  return (
    <dialog
      ref={ref}
      className="dialog"
      role={alert ? 'alertdialog' : undefined}
      aria-labelledby={titleId}
      onClose={onClose}
    >
      <div className="dialog-body">
        <header className="dialog-header">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
            <CloseIcon />
          </button>
        </header>
        {children}
      </div>
    </dialog>
  );
}

interface ConfirmDialogProps {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  busyLabel: string;
  /** The action; the dialog closes when it resolves and shows why when it rejects. */
  onConfirm(): Promise<void>;
  onClose(): void;
}

/** "Are you sure?" for what cannot be undone, with the failure in words if it fails. */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  busyLabel,
  onConfirm,
  onClose,
}: ConfirmDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (cause) {
      setError(describeError(cause));
      setBusy(false);
    }
  };

  return (
    <Modal title={title} onClose={onClose} alert>
      <div className="dialog-text">{children}</div>
      <FormError error={error} />
      <footer className="dialog-actions">
        <button type="button" className="button" onClick={onClose} data-autofocus>
          Cancel
        </button>
        <button
          type="button"
          className="button danger"
          disabled={busy}
          aria-busy={busy}
          onClick={() => void confirm()}
        >
          {busy ? busyLabel : confirmLabel}
        </button>
      </footer>
    </Modal>
  );
}

/** A form's failure as a whole, read out when it appears. */
export function FormError({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <p className="form-error" role="alert">
      {error}
    </p>
  );
}

interface DialogActionsProps {
  onCancel(): void;
  busy: boolean;
  /** The submit button's label, and what it says while the form is being sent. */
  label: string;
  busyLabel: string;
}

/** A dialog form's Cancel and submit buttons. */
export function DialogActions({ onCancel, busy, label, busyLabel }: DialogActionsProps) {
  return (
    <footer className="dialog-actions">
      <button type="button" className="button" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" className="button primary" disabled={busy} aria-busy={busy}>
        {busy ? busyLabel : label}
      </button>
    </footer>
  );
}
