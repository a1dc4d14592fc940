// An empty state: an icon, what is (not) here, and what to do about it.

import type { ReactNode } from "react";

export function Empty({ icon, title, hint, children, testId }: { icon?: ReactNode; title: string; hint?: string; children?: ReactNode; testId?: string }) {
  return (
    <div className="empty-state" data-testid={testId ?? "empty"}>
      {icon && (
        <div className="empty-icon" aria-hidden>
          {icon}
        </div>
      )}
      <p className="empty-title">{title}</p>
      {hint && <p className="empty-hint">{hint}</p>}
      {children}
    </div>
  );
}
