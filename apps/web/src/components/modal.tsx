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
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
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
