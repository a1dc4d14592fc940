// Menus and popovers (Radix): keyboard navigable (arrows, type-ahead, Escape), focus
// returns to the trigger when they close.

import * as M from "@radix-ui/react-dropdown-menu";
import * as P from "@radix-ui/react-popover";
import { Check } from "lucide-react";
import type { ReactNode } from "react";

export function Menu({ trigger, children, align = "start", label }: { trigger: ReactNode; children: ReactNode; align?: "start" | "end"; label?: string }) {
  return (
    <M.Root modal={false}>
      <M.Trigger asChild>{trigger}</M.Trigger>
      <M.Portal>
        <M.Content className="menu" align={align} sideOffset={6} collisionPadding={8} aria-label={label}>
          {children}
        </M.Content>
      </M.Portal>
    </M.Root>
  );
}

export function MenuItem({ children, onSelect, icon, danger, testId, disabled }: { children: ReactNode; onSelect: () => void; icon?: ReactNode; danger?: boolean; testId?: string; disabled?: boolean }) {
  return (
    <M.Item className={`menu-item ${danger ? "danger" : ""}`} onSelect={onSelect} data-testid={testId} disabled={disabled}>
      <span className="menu-icon" aria-hidden>
        {icon}
      </span>
      {children}
    </M.Item>
  );
}

/** A group of choices of which one is current (status, assignee, priority, language). */
export function MenuChoices<V extends string>({ value, options, onChange, label }: { value: V; options: { value: V; label: ReactNode; icon?: ReactNode; testId?: string }[]; onChange: (v: V) => void; label?: string }) {
  return (
    <M.RadioGroup value={value} onValueChange={(v) => onChange(v as V)} aria-label={label}>
      {options.map((o) => (
        <M.RadioItem key={o.value} value={o.value} className="menu-item" data-testid={o.testId} data-value={o.value}>
          <span className="menu-icon" aria-hidden>
            {o.icon}
          </span>
          <span className="menu-text">{o.label}</span>
          <M.ItemIndicator className="menu-check">
            <Check size={14} aria-hidden />
          </M.ItemIndicator>
        </M.RadioItem>
      ))}
    </M.RadioGroup>
  );
}

export function MenuLabel({ children }: { children: ReactNode }) {
  return <M.Label className="menu-label">{children}</M.Label>;
}

export function MenuSeparator() {
  return <M.Separator className="menu-sep" />;
}

export function MenuSub({ label, icon, children }: { label: ReactNode; icon?: ReactNode; children: ReactNode }) {
  return (
    <M.Sub>
      <M.SubTrigger className="menu-item">
        <span className="menu-icon" aria-hidden>
          {icon}
        </span>
        <span className="menu-text">{label}</span>
        <span aria-hidden className="menu-more">
          ›
        </span>
      </M.SubTrigger>
      <M.Portal>
        <M.SubContent className="menu" sideOffset={4} collisionPadding={8}>
          {children}
        </M.SubContent>
      </M.Portal>
    </M.Sub>
  );
}

export function Popover({ trigger, children, open, onOpenChange, label, align = "end" }: { trigger: ReactNode; children: ReactNode; open?: boolean; onOpenChange?: (o: boolean) => void; label: string; align?: "start" | "end" }) {
  return (
    <P.Root {...(open === undefined ? {} : { open })} {...(onOpenChange ? { onOpenChange } : {})}>
      <P.Trigger asChild>{trigger}</P.Trigger>
      <P.Portal>
        <P.Content className="popover" align={align} sideOffset={6} collisionPadding={8} aria-label={label}>
          {children}
        </P.Content>
      </P.Portal>
    </P.Root>
  );
}
