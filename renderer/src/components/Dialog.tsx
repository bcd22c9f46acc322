/**
 * Modal dialogs on the native <dialog> element: the browser keeps focus inside, Escape closes,
 * and focus returns to the control that opened it. ConfirmDialog asks before anything that
 * cannot be undone.
 */
import { useEffect, useId, useRef, type FormEvent, type ReactNode } from 'react';
import { ActionFeedback, Button } from './ui.tsx';

export function Dialog(props: { title: string; onClose: () => void; children: ReactNode; wide?: boolean; description?: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descId = useId();
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const d = ref.current!;
    if (!d.open) d.showModal();
    return () => {
      d.close();
      opener?.focus?.();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className={`dialog${props.wide ? ' dialog-wide' : ''}`}
      aria-labelledby={titleId}
      aria-describedby={props.description ? descId : undefined}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <div className="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" className="dialog-close" onClick={props.onClose} aria-label="Close">
          <span aria-hidden="true">×</span>
        </button>
      </div>
      {props.description && (
        <div id={descId} className="dialog-description">
          {props.description}
        </div>
      )}
      <div className="dialog-body">{props.children}</div>
    </dialog>
  );
}

export function ConfirmDialog(props: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: string;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    props.onConfirm();
  };
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <form onSubmit={submit}>
        <div className="dialog-text">{props.children}</div>
        <ActionFeedback error={props.error} />
        <div className="dialog-actions">
          <Button kind="secondary" onClick={props.onClose}>
            Cancel
          </Button>
          <Button type="submit" kind={props.danger ? 'danger' : 'primary'} busy={props.busy}>
            {props.confirmLabel}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
