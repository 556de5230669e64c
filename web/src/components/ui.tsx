import type { StatusTone } from '../statuses';
import type { ComponentChildren, JSX } from 'preact';

/**
 * A status in words and colour; the colour is never the only signal. `code` (the API's status)
 * is kept as a data attribute for tests and support, not shown.
 */
export function Badge(props: { label: string; tone: StatusTone; code: string }) {
  return (
    <span class={`badge badge-${props.tone}`} data-status={props.code}>
      {props.label}
    </span>
  );
}

type InputProps = Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'id' | 'label'>;

/** A labelled input with its hint or problem tied to it for screen readers. */
export function Field(props: { id: string; label: string; hint?: string; problem?: string; ok?: string } & InputProps) {
  const { id, label, hint, problem, ok, ...input } = props;
  const note = problem || ok || hint;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} {...input} aria-invalid={problem ? true : undefined} aria-describedby={note ? `${id}-note` : undefined} />
      {note ? (
        <p id={`${id}-note`} class={problem ? 'note note-bad' : ok ? 'note note-ok' : 'note'}>
          {note}
        </p>
      ) : null}
    </div>
  );
}

export type Tone = 'ok' | 'bad' | 'info';
export interface Notice {
  tone: Tone;
  text: string;
}

/** Result of the last action; announced politely (or assertively for errors). */
export function Message(props: { notice: Notice | null; testId?: string }) {
  const n = props.notice;
  return (
    <div class={n ? `message message-${n.tone}` : 'message message-empty'} role={n?.tone === 'bad' ? 'alert' : 'status'} data-testid={props.testId}>
      {n?.text ?? ''}
    </div>
  );
}

export function Card(props: { title: string; children: ComponentChildren; id?: string }) {
  const headingId = props.id ? `${props.id}-title` : undefined;
  return (
    <section class="card" id={props.id} aria-labelledby={headingId}>
      <h2 id={headingId}>{props.title}</h2>
      {props.children}
    </section>
  );
}

/**
 * Taken when a submission starts; called when it has been answered. A button disabled while
 * busy loses the focus, which falls to the page (the next Tab starts again at the header): put it
 * back on the form's first field, or on `target`. Only for a submission made from the keyboard
 * (a button focused by Tab, or Enter in a field): a tap leaves the focus alone, so a phone does not
 * open its keyboard by itself.
 */
export function focusKeeper(target?: () => HTMLElement | null): () => void {
  const from = document.activeElement;
  const byKeyboard = from instanceof HTMLElement && from.matches(':focus-visible');
  const form = from instanceof HTMLElement ? from.closest('form') : null;
  return () => {
    if (!byKeyboard || (document.activeElement !== null && document.activeElement !== document.body)) return;
    const to = target ? target() : form?.querySelector<HTMLElement>('input:not([disabled]), select:not([disabled])');
    to?.focus();
  };
}
