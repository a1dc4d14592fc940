// A labelled form field: the label wraps the control, so every input has a name.

import type { ReactNode } from "react";

export function Field({ label, hint, children, inline, className }: { label: ReactNode; hint?: string; children: ReactNode; inline?: boolean; className?: string }) {
  return (
    <label className={`field ${inline ? "field-inline" : ""} ${className ?? ""}`}>
      {inline && children}
      <span className="field-label">{label}</span>
      {!inline && children}
      {hint && <span className="field-hint">{hint}</span>}
    </label>
  );
}

/** A settings section: a card with a title and optional actions. */
export function Card({ title, actions, children, className, ...rest }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string } & Record<`data-${string}`, string>) {
  return (
    <section className={`card ${className ?? ""}`} {...rest}>
      {(title || actions) && (
        <header className="card-head">
          {title && <h3 className="card-title">{title}</h3>}
          {actions && <div className="card-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}
