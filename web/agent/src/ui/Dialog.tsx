// A modal dialog (Radix): focus moves in and stays trapped until it closes; Escape and the
// close button close it; the title names it for screen readers.

import * as D from "@radix-ui/react-dialog";
import { X } from "lucide-react";
import type { ReactNode } from "react";
import { t } from "../i18n";

export interface DialogProps {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description?: string;
  children: ReactNode;
  footer?: ReactNode;
  /** "sheet": slides in from the side (the contact panel on a phone). */
  kind?: "dialog" | "sheet";
  className?: string;
  testId?: string;
  /** What to do when it closes instead of focusing its trigger (see overlays.restoreFocus). */
  onCloseAutoFocus?: (e: Event) => void;
}

export function Dialog({ open, onOpenChange, title, description, children, footer, kind = "dialog", className, testId, onCloseAutoFocus }: DialogProps) {
  return (
    <D.Root open={open} onOpenChange={onOpenChange}>
      <D.Portal>
        <D.Overlay className="overlay" />
        <D.Content
          className={`${kind === "sheet" ? "sheet" : "modal"} ${className ?? ""}`}
          data-testid={testId}
          {...(onCloseAutoFocus ? { onCloseAutoFocus } : {})}
          {...(description ? {} : { "aria-describedby": undefined })}
        >
          <div className="modal-head">
            <D.Title className="modal-title">{title}</D.Title>
            <D.Close className="btn btn-ghost btn-icon" aria-label={t("close")} title={t("close")}>
              <X size={16} aria-hidden />
            </D.Close>
          </div>
          {description && <D.Description className="modal-description">{description}</D.Description>}
          <div className="modal-body">{children}</div>
          {footer && <div className="modal-foot">{footer}</div>}
        </D.Content>
      </D.Portal>
    </D.Root>
  );
}
