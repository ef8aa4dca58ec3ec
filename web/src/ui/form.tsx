import { useEffect, useId, useRef, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from 'react';
import { useLocation, useNavigationType } from 'react-router';

/** A labelled input: the label names it for screen readers and tests alike. */
export function Field({ label, hint, ...input }: { label: string; hint?: string } & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-describedby={hint ? `${id}-hint` : undefined} {...input} />
      {hint && (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

/** A labelled select over fixed options. */
export function Select({ label, options, ...select }: { label: string; options: readonly string[] } & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} {...select}>
        {options.map((option) => (
          <option key={option} value={option}>
            {option === '' ? 'Any' : option}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The server's refusal, announced to screen readers (its message names the field or the action). */
export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {error instanceof Error ? error.message : String(error)}
    </p>
  );
}

/**
 * A page: its heading and the document title. After an in-app navigation focus moves to the
 * heading, so a screen reader announces the new page and Tab continues from its top; a load
 * (or back/forward) leaves focus alone, so the skip link comes first.
 */
export function Page({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const navigation = useNavigationType();
  const { key } = useLocation();
  useEffect(() => {
    document.title = `${title} · Coffer`;
    if (navigation !== 'POP') heading.current?.focus();
  }, [title, key, navigation]);
  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title" ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {actions}
      </div>
      {children}
    </section>
  );
}

/** The values of a submitted form, by input name. */
export function formValues(event: React.FormEvent<HTMLFormElement>): Record<string, string> {
  event.preventDefault();
  const values: Record<string, string> = {};
  new FormData(event.currentTarget).forEach((value, key) => {
    if (typeof value === 'string') values[key] = value;
  });
  return values;
}

/** A form of one fieldset: its legend, the fields (children), the server's refusal and the submit button (off while pending). */
export function FieldsetForm(props: {
  legend: string;
  submit: string;
  onSubmit: (values: Record<string, string>) => void;
  error?: unknown;
  pending?: boolean;
  className?: string;
  children: ReactNode;
}) {
  return (
    <form className={props.className ?? 'create'} onSubmit={(event) => props.onSubmit(formValues(event))}>
      <fieldset>
        <legend>{props.legend}</legend>
        {props.children}
        <ErrorText error={props.error} />
        <button type="submit" disabled={props.pending}>{props.submit}</button>
      </fieldset>
    </form>
  );
}
